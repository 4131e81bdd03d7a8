from __future__ import annotations

import gzip
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brain_agent.errors import InputError
from brain_agent.llm import count_tokens, encoding_for_model, get_encoding
from brain_agent.llm.tokenizer import (
    BUNDLED_ENCODINGS,
    TokenCounter,
    TokenizerDataError,
    independent_chunks,
    load_bpe_file,
)

O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"


def test_well_known_token_ids() -> None:
    # Published ids: o200k "hello world" = [24912, 2375]; cl100k = [15339, 1917];
    # tiktoken's README: cl100k "tiktoken is great!" = [83, 1609, 5963, 374, 2294, 0].
    assert get_encoding("o200k_base").encode("hello world") == [24912, 2375]
    assert get_encoding("cl100k_base").encode("hello world") == [15339, 1917]
    assert get_encoding("cl100k_base").encode("tiktoken is great!") == [83, 1609, 5963, 374, 2294, 0]
    assert count_tokens("hello world") == 2
    assert count_tokens("tiktoken is great!", "cl100k_base") == 6


def test_vocab_sizes_and_specials_match_openai() -> None:
    o200k = get_encoding("o200k_base")
    cl100k = get_encoding("cl100k_base")
    assert (o200k.name, o200k.n_vocab, o200k.eot_token) == ("o200k_base", 200019, 199999)
    assert (cl100k.name, cl100k.n_vocab, cl100k.eot_token) == ("cl100k_base", 100277, 100257)
    assert get_encoding("o200k_base") is o200k  # cached


def test_counts_expression_and_special_text_round_trip() -> None:
    text = "group_neutralize(rank(-ts_delta(close, 5)), subindustry) <|endoftext|>"
    enc = get_encoding()
    tokens = enc.encode_ordinary(text)
    assert enc.decode(tokens) == text
    assert count_tokens(text) == len(tokens) > 10
    assert count_tokens("") == 0


def test_unknown_encoding_is_input_error() -> None:
    with pytest.raises(InputError, match="p50k_base"):
        get_encoding("p50k_base")


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-4o", ("o200k_base", True)),
        ("gpt-4.1-mini", ("o200k_base", True)),
        ("o3-mini", ("o200k_base", True)),
        ("gpt-5", ("o200k_base", True)),
        ("openai/gpt-4o-mini", ("o200k_base", True)),
        ("gpt-3.5-turbo", ("cl100k_base", True)),
        ("gpt-4", ("cl100k_base", True)),
        ("llama3.1:8b", ("o200k_base", False)),
        ("claude-sonnet-4", ("o200k_base", False)),
    ],
)
def test_encoding_for_model(model: str, expected: tuple[str, bool]) -> None:
    assert encoding_for_model(model) == expected


def test_bundled_file_verifies_and_corruption_is_a_clear_error(tmp_path: Path) -> None:
    bundled = resources.files("brain_agent.llm") / "data" / "o200k_base.tiktoken.gz"
    good = tmp_path / "good.tiktoken.gz"
    good.write_bytes(bundled.read_bytes())
    ranks = load_bpe_file(good, O200K_SHA256)
    assert len(ranks) == 199998
    assert ranks[b"hello"] == 24912

    plain = gzip.decompress(bundled.read_bytes())
    bad = tmp_path / "bad.tiktoken"
    bad.write_bytes(plain.replace(b" 24912\n", b" 24913\n", 1))
    with pytest.raises(TokenizerDataError) as info:
        load_bpe_file(bad, O200K_SHA256)
    assert O200K_SHA256 in str(info.value) and "mismatch" in str(info.value)
    with pytest.raises(TokenizerDataError, match="cannot be read"):
        load_bpe_file(tmp_path / "missing.tiktoken", O200K_SHA256)


OFFLINE_CHILD = """
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("network disabled in this test")
socket.socket.connect = refuse
socket.create_connection = refuse
from brain_agent.llm import count_tokens
print(count_tokens("hello world"), count_tokens("hello world", "cl100k_base"))
"""


def test_works_with_network_off_and_an_empty_tiktoken_cache(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "TIKTOKEN_CACHE_DIR": str(tmp_path), "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", OFFLINE_CHILD], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2", "2"]
    assert list(tmp_path.iterdir()) == []  # nothing downloaded or cached


# -- per-chunk counting: the sum of the chunks' counts is the whole text's count ------------------

# Characters that stress the pre-tokeniser at line breaks: every kind of whitespace (ASCII, Unicode
# White_Space, Python-only isspace), "/" (o200k glues it to a punctuation run's trailing newlines),
# punctuation, digits, letters of both cases, a combining mark, CJK, an apostrophe (contractions).
_EDGE = list(" \t\n\r\x0b\x0c\x1c\x85\xa0\u2028\u3000/.,:;()[]{}'\"-_*#`→×0123456789aZsStTq\u0301漢")
_FRAGMENTS = ["/", "//", " ", "  ", "\t", "\r", ".", ":", ");", "word", "Ab", "12345", "→", "'s", "\u3000"]
_LINE = st.text(alphabet=st.sampled_from(_EDGE) | st.characters(codec="utf-8"), max_size=40) | st.lists(
    st.sampled_from(_FRAGMENTS), max_size=8
).map("".join)


@settings(max_examples=400, deadline=None, database=None)
@given(lines=st.lists(_LINE, max_size=25), encoding=st.sampled_from(BUNDLED_ENCODINGS))
def test_chunk_counts_sum_to_the_whole_count(lines: list[str], encoding: str) -> None:
    text = "\n".join(lines)
    chunks = independent_chunks(text)
    assert "".join(chunks) == text
    assert all(chunks)
    assert sum(count_tokens(c, encoding) for c in chunks) == count_tokens(text, encoding)
    assert TokenCounter(encoding).count(text) == count_tokens(text, encoding)


@pytest.mark.parametrize("encoding", BUNDLED_ENCODINGS)
@pytest.mark.parametrize(
    "text",
    [
        "x.\n//y",  # o200k: ".\n//" is one pre-token (3 tokens whole, 4 if split before "/")
        "x:\n\n\ny\n",  # blank lines stay with the line before
        "x  \n \t\nz",  # a whitespace-only line
        "def f():\n    return 1\n",  # indentation
        "a\r\nb\r\n\r\nc",  # CRLF
        "end\n\u2028next\n\xa0nbsp",  # Unicode whitespace at a line start
        "no newline at all",
        "\n\nleading blank lines\n",
    ],
)
def test_chunk_edge_cases_are_exact(text: str, encoding: str) -> None:
    assert sum(count_tokens(c, encoding) for c in independent_chunks(text)) == count_tokens(text, encoding)
    assert TokenCounter(encoding).count(text) == count_tokens(text, encoding)


def test_lines_that_start_with_whitespace_or_slash_stay_glued() -> None:
    assert independent_chunks("a\n  b\nc\n/d\n\ne\n") == ["a\n  b\n", "c\n/d\n\n", "e\n"]
    assert independent_chunks("") == []


def test_counter_memoises_lines_and_bounds_its_memo() -> None:
    counter = TokenCounter(memo_size=3, max_chunk_chars=50)
    assert counter.chunked
    text = "alpha line\nbeta line\ngamma line\n"
    assert counter.count(text) == count_tokens(text)
    assert counter.memo_info() == (0, 3, 3)
    assert counter.count(text + "delta\n") == count_tokens(text + "delta\n")
    hits, misses, entries = counter.memo_info()
    assert (hits, misses, entries) == (3, 4, 3)  # bounded: the oldest line was evicted
    long_line = "word " * 40 + "\n"  # longer than max_chunk_chars: counted, not memoised
    assert counter.count(long_line) == count_tokens(long_line)
    assert counter.memo_info()[2] == 3
    counter.clear()
    assert counter.memo_info() == (0, 0, 0)
    assert counter.count("") == 0
