"""sync-knowledge-pack against the fake BRAIN, and the definition parser it relies on."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_brain import DEMO_EMAIL, DEMO_PASSWORD, FakeBrain, FakeClock, FakeConfig

from brain_agent.cli import run
from brain_agent.errors import KnowledgePackError, ProviderError
from brain_agent.knowledge import DataField, Operator, OperatorArg, Subcategory, load_knowledge_pack
from brain_agent.simulation.brain import BrainApi, BrainSession, parse_definition, sync_knowledge_pack
from brain_agent.simulation.brain.catalog import write_pack

FILES = ("operators.json", "fields.json", "subcategories.json")


@pytest.fixture
def brain_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BRAIN_EMAIL", DEMO_EMAIL)
    monkeypatch.setenv("BRAIN_PASSWORD", DEMO_PASSWORD)
    monkeypatch.setenv("BRAIN_SESSION_FILE", str(tmp_path / "session.json"))
    monkeypatch.delenv("BRAIN_API_URL", raising=False)


def old_pack(directory: Path) -> dict[str, bytes]:
    rank = Operator(
        name="rank",
        category="cross_sectional",
        args=[
            OperatorArg(name="x", kind="expr"),
            OperatorArg(name="rate", kind="int", default=2, optional=True, keyword_only=True),
        ],
        description="Curated: rank across instruments.",
    )
    field = DataField(
        id="close",
        description="Close",
        dataset="pv1",
        category="pv",
        subcategory="pv-price-volume",
        type="MATRIX",
        coverage=1.0,
    )
    sub = Subcategory(id="pv-price-volume", name="Price Volume", category="pv", description="Curated prices.")
    write_pack(directory, [rank], [field], [sub], version="old", source="test")
    return {name: (directory / name).read_bytes() for name in FILES}


def test_sync_knowledge_pack_end_to_end(
    brain_env: None, fake_brain: FakeBrain, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "data" / "meta" / "index"
    before = old_pack(out)
    code = run(["sync-knowledge-pack", "--brain-url", fake_brain.url, "--output-dir", str(out)])
    assert code == 0, capsys.readouterr().err
    assert all((out / name).read_bytes() != before[name] for name in FILES)
    pack = load_knowledge_pack(out)
    assert len(pack.operators) == 25
    assert len(pack.fields) == 118, "13 pv1 + 81 fundamental6 + 25 analyst4 − 1 UNIVERSE field"
    assert set(pack.subcategories) == {
        "pv-price-volume",
        "fundamental-fundamental-data",
        "analyst-analyst-estimates",
    }
    assert pack.subcategories["pv-price-volume"].description == "Curated prices."
    assert pack.fields["fnd6_capxs"].type == "VECTOR" and pack.fields["industry"].type == "GROUP"
    assert [r for r in fake_brain.requests if r[1].startswith("/data-fields")].__len__() == 3, "50 + 50 + 19"
    ops = pack.operators
    assert ops["rank"].description == "rank: see the BRAIN documentation."
    assert ops["rank"].args[1].kind == "int", "the curated signature is kept"
    assert ops["ts_mean"].category == "time_series" and ops["sigmoid"].level == "GENIUS"
    assert ops["reduce_avg"].scope == ["COMBO"]
    assert ops["add"].infix == "+" and ops["less"].infix == "<"
    assert ops["bucket"].returns == "group" and ops["vec_avg"].args[0].kind == "vector"
    assert [a.kind for a in ops["group_mean"].args] == ["expr", "expr", "group"]
    assert not list(out.parent.glob(".index.sync-*")), "the staging folder is cleaned up"
    stdout = capsys.readouterr().out
    assert "wrote 25 operators (1 with a kept signature), 118 fields and 3 subcategories" in stdout


def test_a_failed_sync_leaves_the_old_pack_untouched(
    brain_env: None, fake_brain: FakeBrain, tmp_path: Path
) -> None:
    out = tmp_path / "index"
    before = old_pack(out)
    fake_brain.inject("GET", "/data-fields", 403, body={"detail": "Forbidden"})
    code = run(
        ["sync-knowledge-pack", "--brain-url", fake_brain.url, "--output-dir", str(out), "--dataset", "pv1"]
    )
    assert code != 0
    assert {name: (out / name).read_bytes() for name in FILES} == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("fake_config", [FakeConfig(operators_wrapped=True)])
def test_sync_with_retries_exhausted_keeps_the_old_pack(
    make_session: Callable[..., BrainSession], fake_brain: FakeBrain, tmp_path: Path, clock: FakeClock
) -> None:
    out = tmp_path / "index"
    before = old_pack(out)
    fake_brain.inject("GET", "/data-fields", 502, times=10)
    with pytest.raises(ProviderError, match="server error 502 after 5 attempts"):
        sync_knowledge_pack(BrainApi(make_session()), out, now=clock.now())
    assert {name: (out / name).read_bytes() for name in FILES} == before
    assert clock.sleeps == [2.0, 4.0, 8.0, 16.0]


def test_an_empty_catalogue_is_refused(
    make_session: Callable[..., BrainSession], fake_brain: FakeBrain, tmp_path: Path, clock: FakeClock
) -> None:
    out = tmp_path / "index"
    before = old_pack(out)
    fake_brain.operators = []
    with pytest.raises(KnowledgePackError, match="refusing to replace"):
        sync_knowledge_pack(BrainApi(make_session()), out, now=clock.now(), datasets=["pv1"])
    assert {name: (out / name).read_bytes() for name in FILES} == before


def test_dataset_filter_and_fresh_directory(
    make_session: Callable[..., BrainSession], tmp_path: Path, clock: FakeClock
) -> None:
    out = tmp_path / "new" / "index"
    report = sync_knowledge_pack(BrainApi(make_session()), out, now=clock.now(), datasets=["pv1", "analyst4"])
    assert (report.fields, report.subcategories, report.curated_operators) == (37, 2, 0)
    assert all(stat.S_IMODE((out / name).stat().st_mode) == 0o644 for name in FILES)
    doc = load_knowledge_pack(out)
    assert doc.operators["rank"].args[1] == OperatorArg(
        name="rate", kind="int", default=2, optional=True, keyword_only=True
    )


# -- definition parser ----------------------------------------------------------------------------


def kinds(name: str, definition: str) -> list[tuple[str, str]]:
    return [(a.name, a.kind) for a in parse_definition(name, definition).args]


def test_parse_plain_and_keyword_arguments() -> None:
    sig = parse_definition("ts_decay_linear", "ts_decay_linear(x, d, dense = false)")
    assert [(a.name, a.kind, a.default, a.optional) for a in sig.args] == [
        ("x", "expr", None, False),
        ("d", "lookback", None, False),
        ("dense", "bool", False, True),
    ]
    assert kinds("ts_backfill", "ts_backfill(x,lookback = d, k=1)") == [
        ("x", "expr"),
        ("lookback", "lookback"),
        ("k", "int"),
    ]
    assert kinds("ts_quantile", 'ts_quantile(x,d, driver="gaussian" )')[2] == ("driver", "string")
    assert (
        parse_definition("quantile", "quantile(x, driver = gaussian, sigma = 1.0)").args[1].default
        == "gaussian"
    )
    assert kinds("winsorize", "winsorize(x, std=4)") == [("x", "expr"), ("std", "int")]
    assert kinds("normalize", "normalize(x, useStd = false, limit = 0.0)")[2] == ("limit", "number")


def test_parse_variadic_infix_groups_vectors_and_oddities() -> None:
    add = parse_definition("add", "add(x, y, filter = false), x + y")
    assert (add.infix, add.variadic) == ("+", False)
    mul = parse_definition("multiply", "multiply(x ,y, ... , filter=false), x * y")
    assert (mul.infix, mul.variadic, [a.name for a in mul.args]) == ("*", True, ["x", "y", "filter"])
    assert parse_definition("max", "max(x, y, ..)").variadic
    less = parse_definition("less", "input1 < input2")
    assert (less.infix, [a.name for a in less.args]) == ("<", ["input1", "input2"])
    assert kinds("if_else", "if_else(input1, input2, input 3)")[2] == ("input3", "expr")
    assert kinds("group_neutralize", "group_neutralize(x, group)") == [("x", "expr"), ("group", "group")]
    assert kinds("vec_sum", "vec_sum(x)") == [("x", "vector")]
    assert kinds("ts_step", "ts_step(1)") == [("x", "int")]
    bucket = parse_definition("bucket", 'bucket(rank(x), range="0, 1, 0.1", skipBoth=False, NaNGroup=False)')
    assert [(a.name, a.kind) for a in bucket.args] == [
        ("x", "expr"),
        ("range", "string"),
        ("skipBoth", "bool"),
        ("NaNGroup", "bool"),
    ]
    assert kinds("mystery", "something else entirely") == [("x", "expr")]
    assert kinds("reverse", "reverse(x), -x") == [("x", "expr")]
    assert parse_definition("reverse", "reverse(x), -x").infix is None
