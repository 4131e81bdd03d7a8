from __future__ import annotations

import gzip
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from brain_agent.errors import InputError
from brain_agent.llm import count_tokens, encoding_for_model, get_encoding
from brain_agent.llm.tokenizer import TokenizerDataError, load_bpe_file

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
