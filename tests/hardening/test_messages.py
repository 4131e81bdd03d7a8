"""Error messages: user text is never read as rich markup, long values are shortened, hostile JSON
is refused with exit 2 (issue 12: markup in user text, hostile JSON)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import EXAMPLE_IDEA

DEEP = 100_000


@pytest.mark.parametrize("run_id", ["[/]", "[/b]", "a[/]b", "[bold]x[/bold]", "[link=x]y"])
def test_markup_in_a_run_id_is_printed_as_is(cli: Any, run_id: str) -> None:
    r = cli("events", "export", "--run", run_id)
    assert r.code == 2, r.err
    assert run_id in r.err
    assert "internal error" not in r.err


def test_markup_in_a_path_is_printed_as_is(cli: Any, tmp_path: Path) -> None:
    for name in ("x[/b].json", "[bold]y.json", "z[/].json"):
        r = cli(
            "run-idea-agent", "--llm-provider", "mock", "--input", tmp_path / name, "--output", tmp_path / "o"
        )
        assert r.code == 2, r.err
        assert name in r.flat_err


def test_markup_in_an_idea_id_is_printed_as_is(cli: Any, tmp_path: Path) -> None:
    r = cli("build-retrieval-pack", "--idea", EXAMPLE_IDEA, "--idea-id", "a[/]b", "--output", tmp_path / "p")
    assert r.code == 2, r.err
    assert "a[/]b" in r.err


def test_success_lines_print_markup_paths_as_is(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "[/b]refined[bold].json"
    r = cli("run-idea-agent", "--llm-provider", "mock", "--input", EXAMPLE_IDEA, "--output", out)
    assert r.code == 0, r.err
    assert out.name in " ".join(r.out.split())


def _deep(tmp_path: Path) -> Path:
    p = tmp_path / "deep.json"
    p.write_text("[" * DEEP + "]" * DEEP)
    return p


def _deep_object(tmp_path: Path) -> Path:
    p = tmp_path / "deep-object.json"
    p.write_text('{"a":' * 200 + "1" + "}" * 200)
    return p


@pytest.mark.parametrize("make", [_deep, _deep_object])
def test_deep_json_is_refused_by_every_reader(cli: Any, tmp_path: Path, make: Any) -> None:
    deep = make(tmp_path)
    out = tmp_path / "out.json"
    runs = [
        ("run-idea-agent", "--llm-provider", "mock", "--input", deep, "--output", out),
        ("build-retrieval-pack", "--idea", deep, "--output", out),
        ("simulate-candidates", "--input", deep, "--output", out),
        ("estimate-prompt-cost", "--retrieval-pack", deep),
        ("run-alpha-maker", "--idea", EXAMPLE_IDEA, "--retrieval-pack", deep, "--output", out),
    ]
    for args in runs:
        r = cli(*args)
        assert r.code == 2, (args, r.err)
        assert str(deep) in r.flat_err and "nested deeper" in r.err, (args, r.err)


def test_non_finite_numbers_are_refused(cli: Any, tmp_path: Path) -> None:
    for text in ('{"x": NaN}', '{"x": Infinity}', '{"x": 1e999}', '{"x": ' + "9" * 5000 + "}"):
        p = tmp_path / "odd.json"
        p.write_text(text)
        r = cli("simulate-candidates", "--input", p, "--output", tmp_path / "o.json")
        assert r.code == 2, (text[:20], r.err)
        assert str(p) in r.flat_err
        assert len(r.err) < 1000


def test_a_huge_bad_value_is_shortened(cli: Any, tmp_path: Path) -> None:
    idea = json.loads(EXAMPLE_IDEA.read_text())
    first = idea[0] if isinstance(idea, list) else idea
    first["lane"] = "L" * 10_000_000
    p = tmp_path / "idea.json"
    p.write_text(json.dumps(first))
    r = cli("run-idea-agent", "--llm-provider", "mock", "--input", p, "--output", tmp_path / "o.json")
    assert r.code == 2, r.err[:300]
    assert str(p) in r.flat_err and "lane" in r.err
    assert len(r.err) < 3000, f"{len(r.err)} characters on stderr"


def test_non_utf8_input_is_exit_2(cli: Any, tmp_path: Path) -> None:
    p = tmp_path / "latin1.json"
    p.write_bytes('{"title": "caf\xe9"}'.encode("latin-1"))
    r = cli("run-idea-agent", "--llm-provider", "mock", "--input", p, "--output", tmp_path / "o.json")
    assert r.code == 2 and "UTF-8" in r.err and str(p) in r.flat_err


def test_an_enormous_input_file_is_refused_without_reading_it(cli: Any, tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as fh:  # sparse: 300 MiB on paper, nothing on disk
        fh.truncate(300 * 2**20)
    for args in (
        ("run-idea-agent", "--llm-provider", "mock", "--input", big, "--output", tmp_path / "o.json"),
        ("simulate-candidates", "--input", big, "--output", tmp_path / "o.json"),
    ):
        r = cli(*args)
        assert r.code == 2, r.err
        assert str(big) in r.flat_err and "MiB" in r.err


def test_an_enormous_knowledge_pack_file_is_refused(cli: Any, tmp_path: Path) -> None:
    import shutil

    from .conftest import REPO

    pack = tmp_path / "pack"
    shutil.copytree(REPO / "data" / "meta" / "index", pack)
    with (pack / "fields.json").open("r+b") as fh:
        fh.truncate(300 * 2**20)
    r = cli("validate-expression", "rank(close)", "--knowledge-pack-dir", pack)
    assert r.code == 2 and "fields.json" in r.err and "MiB" in r.err
