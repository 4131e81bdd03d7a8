"""Exact BPE token counting that works offline.

Stock ``tiktoken`` downloads its rank files on first use and fails without a network. This package
ships the two files it needs (``o200k_base`` and ``cl100k_base``, gzipped, under ``llm/data/``) and
builds the encodings from them. The files are byte-identical to OpenAI's published ones: each is
checked at load time against the sha256 pinned in ``tiktoken_ext.openai_public``, and a mismatch is
a clear error, never a silently wrong count.

The regex patterns and special tokens come from ``tiktoken_ext.openai_public`` itself: its
constructor (``o200k_base()`` ...) is run with a loader that reads the bundled file instead of the
URL, so nothing is copied from tiktoken and nothing global is changed.

Counting a long prompt costs milliseconds, and the budget gate counts nearly the same prompt many
times (the fallback ladder re-renders it per Top-K step; successive ideas share most pack lines).
:class:`TokenCounter` counts independent chunks (:func:`independent_chunks`) through a bounded LRU
memo and sums them; the sum is provably equal to the whole-text count (see that function).

Provenance: the data files were taken from the ``bpe-openai`` 0.1.4 wheel on PyPI (MIT licence,
``bpe_openai/data/*.tiktoken.gz``); the data itself is OpenAI's tiktoken encodings (MIT). See
``llm/data/NOTICE.txt``.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import re
import types
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import tiktoken
from tiktoken.model import encoding_name_for_model
from tiktoken_ext import openai_public

from brain_agent.errors import BrainAgentError, InputError

DEFAULT_ENCODING = "o200k_base"
BUNDLED_ENCODINGS: tuple[str, ...] = ("o200k_base", "cl100k_base")

# A line start where no pre-token can straddle the line break (see independent_chunks).
_LINE_BREAK = re.compile(r"\n(?=[^\s/])")
# sha256 of the pre-tokeniser patterns that argument was made for. Another pattern (a new tiktoken
# release, another encoding) turns chunking off: TokenCounter then counts whole texts.
_CHUNKABLE_PATTERNS = {
    "2d1b8dc11e89af71459b36004f698ab3693f59fd84f63e8ec2b49564ab857420",  # o200k_base
    "f021c3d976978e62ee64cdad150cc3405c2e3d6e3b40407850bb9e8d9eb65899",  # cl100k_base
}

# Encodings whose ordinary-text tokens are the same as a bundled one (they only add special tokens).
_SAME_ORDINARY_TOKENS = {"o200k_harmony": "o200k_base"}


class TokenizerDataError(BrainAgentError):
    """A bundled tokenizer file is missing or does not match its pinned hash (a broken install)."""

    code = "tokenizer_data_error"


def load_bpe_file(path: Path | str, expected_sha256: str) -> dict[bytes, int]:
    """Read a (possibly gzipped) ``.tiktoken`` rank file, verify its sha256, return token → rank.

    The hash is of the *uncompressed* content, as pinned in ``tiktoken_ext.openai_public``.
    """
    source = Path(path)
    try:
        blob = source.read_bytes()
    except OSError as exc:
        raise TokenizerDataError(f"{source}: tokenizer data file cannot be read: {exc.strerror}") from None
    return _parse_verified(blob, expected_sha256, str(source))


def _parse_verified(blob: bytes, expected_sha256: str, source: str) -> dict[bytes, int]:
    if blob[:2] == b"\x1f\x8b":
        try:
            blob = gzip.decompress(blob)
        except (OSError, EOFError) as exc:
            raise TokenizerDataError(f"{source}: tokenizer data file is not valid gzip: {exc}") from None
    actual = hashlib.sha256(blob).hexdigest()
    if actual != expected_sha256:
        raise TokenizerDataError(
            f"{source}: tokenizer data sha256 mismatch: expected {expected_sha256}, got {actual}; "
            "the installation is damaged, reinstall brain-agent",
            file=source,
            expected=expected_sha256,
            observed=actual,
        )
    ranks: dict[bytes, int] = {}
    for line in blob.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def _bundled_loader(name: str) -> Callable[..., dict[bytes, int]]:
    """A stand-in for ``tiktoken.load.load_tiktoken_bpe`` that reads the file shipped with us."""

    def load(blobpath: str, expected_hash: str | None = None) -> dict[bytes, int]:
        expected_file = f"{name}.tiktoken"
        if not blobpath.endswith("/" + expected_file):
            raise TokenizerDataError(f"tiktoken asked for {blobpath!r} while building {name}")
        if not expected_hash:
            raise TokenizerDataError(f"tiktoken pins no sha256 for {name}; refusing unverified data")
        resource = resources.files("brain_agent.llm") / "data" / f"{expected_file}.gz"
        try:
            blob = resource.read_bytes()
        except OSError:
            raise TokenizerDataError(f"bundled tokenizer data {resource} is missing") from None
        return _parse_verified(blob, expected_hash, str(resource))

    return load


@functools.cache
def get_encoding(name: str = DEFAULT_ENCODING) -> tiktoken.Encoding:
    """The named encoding, built from bundled data (no network). Cached per process."""
    base = _SAME_ORDINARY_TOKENS.get(name, name)
    if base not in BUNDLED_ENCODINGS:
        raise InputError(
            f"unknown tokenizer encoding {name!r}; choose one of {', '.join(BUNDLED_ENCODINGS)}",
            encoding=name,
        )
    constructor = getattr(openai_public, base)
    # Run tiktoken's own constructor (pattern, special tokens, pinned hash) with our file loader.
    scope: dict[str, Any] = {**constructor.__globals__, "load_tiktoken_bpe": _bundled_loader(base)}
    spec = types.FunctionType(constructor.__code__, scope, constructor.__name__)()
    return tiktoken.Encoding(
        spec["name"],
        pat_str=spec["pat_str"],
        mergeable_ranks=spec["mergeable_ranks"],
        special_tokens=spec["special_tokens"],
        explicit_n_vocab=spec.get("explicit_n_vocab"),
    )


def count_tokens(text: str, encoding: str = DEFAULT_ENCODING) -> int:
    """Exact number of BPE tokens in ``text``; special-token text counts as ordinary text."""
    if not text:
        return 0
    return len(get_encoding(encoding).encode_ordinary(text))


def encoding_for_model(model: str) -> tuple[str, bool]:
    """``(encoding name, exact)`` for a model name.

    ``exact`` is False when the model is not an OpenAI model tiktoken knows (Llama, Qwen, Claude...):
    the count is then an ``o200k_base`` approximation, to be calibrated from provider usage.
    """
    bare = model.strip().rsplit("/", 1)[-1]
    try:
        name = encoding_name_for_model(bare)
    except KeyError:
        return DEFAULT_ENCODING, False
    name = _SAME_ORDINARY_TOKENS.get(name, name)
    if name in BUNDLED_ENCODINGS:
        return name, True
    return DEFAULT_ENCODING, False


def independent_chunks(text: str) -> list[str]:
    r"""Split ``text`` right after every ``\n`` that is followed by a character which is neither
    whitespace nor ``/``. The chunks concatenate back to ``text``, and for ``o200k_base`` and
    ``cl100k_base`` the token count of ``text`` is the sum of the chunks' counts.

    Why: tiktoken encodes each pre-token (a match of the encoding's regex) on its own, so the count
    is additive over any split that no pre-token straddles and that does not change how the regex
    matches either side. At such a boundary ``p`` (``text[p-1] == "\n"``, ``text[p]`` = ``c``):

    - letter/number pre-tokens cannot contain ``\n`` (their optional prefix is ``[^\r\n...]``);
    - a punctuation pre-token may swallow trailing line breaks, ``[\r\n/]*`` (o200k) or
      ``[\r\n]*`` (cl100k), but ``c`` is none of those, so it stops at ``p``;
    - whitespace pre-tokens stop at ``p`` because ``c`` is not whitespace. The only look-arounds,
      ``(?!\S)`` and cl100k's ``\s++$``, see end-of-text at ``p`` in the chunk but ``c`` in the
      whole text; the whitespace run that ends in ``\n`` at ``p`` is taken whole by
      ``\s*[\r\n]+`` (o200k) / ``\s*[\r\n]`` or ``\s++$`` (cl100k) either way;
    - no pattern has a look-behind, so matching restarts at ``p`` exactly as at the start of a text.

    A line that starts with whitespace (indentation, a blank line, ``\r``) or ``/`` stays glued to
    the line before it. ``tests/llm/test_tokenizer.py`` checks the equality as a property test on
    real rendered prompts and adversarial random text, for both encodings.
    """
    chunks: list[str] = []
    start = 0
    for match in _LINE_BREAK.finditer(text):
        end = match.end()
        chunks.append(text[start:end])
        start = end
    if start < len(text):
        chunks.append(text[start:])
    return chunks


class TokenCounter:
    """Exact BPE counts with a bounded per-chunk LRU memo (keyed by the chunk text).

    ``count(text) == count_tokens(text, encoding)`` always; the memo only saves work. Chunks longer
    than ``max_chunk_chars`` are counted but not memoised, which bounds the memo's memory to about
    ``memo_size * max_chunk_chars`` characters. If the encoding's pre-tokeniser pattern is not one
    :func:`independent_chunks` was proved for, ``chunked`` is False and whole texts are counted.
    """

    def __init__(
        self, encoding: str = DEFAULT_ENCODING, *, memo_size: int = 4096, max_chunk_chars: int = 2048
    ) -> None:
        enc = get_encoding(encoding)
        self.encoding = encoding
        self.max_chunk_chars = max_chunk_chars
        pattern_hash = hashlib.sha256(enc._pat_str.encode("utf-8")).hexdigest()
        self.chunked = pattern_hash in _CHUNKABLE_PATTERNS
        self._encode = enc.encode_ordinary
        self._memo = functools.lru_cache(maxsize=memo_size)(self._count_one)

    def _count_one(self, chunk: str) -> int:
        return len(self._encode(chunk))

    def count(self, text: str) -> int:
        if not text:
            return 0
        if not self.chunked:
            return self._count_one(text)
        memo, limit, direct = self._memo, self.max_chunk_chars, self._count_one
        return sum(memo(c) if len(c) <= limit else direct(c) for c in independent_chunks(text))

    def memo_info(self) -> tuple[int, int, int]:
        """``(hits, misses, entries)`` of the chunk memo."""
        info = self._memo.cache_info()
        return info.hits, info.misses, info.currsize

    def clear(self) -> None:
        self._memo.cache_clear()
