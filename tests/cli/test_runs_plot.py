"""``runs show RUN --plot FILE`` through the CLI, on both store backends and with BRAIN results from the
fake BRAIN on 127.0.0.1. The page is parsed (html.parser) and every drawn point is turned back into
dollars and compared with the PnL series stored in the simulations table."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from brain_agent.cli import run
from brain_agent.knowledge import load_knowledge_pack
from brain_agent.report.pnl_page import MAX_SMALL, Panel, render
from brain_agent.storage import open_store
from brain_agent.telemetry.alpha_yield import Yield

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "simulation" / "brain"))
from fake_brain import FakeBrain, signed_in


@dataclass
class Figure:
    cls: str
    candidate_id: str
    texts: dict[str, str] = field(default_factory=dict)
    svg: dict[str, str] | None = None
    points: list[tuple[float, float]] = field(default_factory=list)
    unavailable: str | None = None


class Page(HTMLParser):
    """Figures (class, id, caption texts, the svg's attributes and polyline points), and every tag that
    could load something or run code."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[Figure] = []
        self.loads: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text = ""
        self._capture: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("script", "link", "img", "iframe", "object", "embed") or any(
            k in ("src", "href") for k in a
        ):
            self.loads.append((tag, attrs))
        if tag == "figure":
            self.figures.append(Figure(cls=a.get("class", ""), candidate_id=a.get("id", "")))
        elif self.figures and tag in ("code", "span"):
            self._capture = a.get("class", "").split()[0]
            self.figures[-1].texts[self._capture] = ""
        elif self.figures and tag == "svg":
            self.figures[-1].svg = a
        elif self.figures and tag == "polyline" and "pnl" in a.get("class", ""):
            self.figures[-1].points = [
                (float(x), float(y)) for x, y in (p.split(",") for p in a["points"].split())
            ]
        elif self.figures and tag == "div" and "nochart" in a.get("class", ""):
            self._capture = "nochart"
            self.figures[-1].texts["nochart"] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag in ("code", "span", "div"):
            self._capture = None

    def handle_data(self, data: str) -> None:
        self.text += data
        if self._capture and self.figures:
            self.figures[-1].texts[self._capture] += data


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code = run([*args, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def stored_pnl(db: str) -> dict[str, dict[str, Any]]:
    """The newest COMPLETE simulation's result per candidate, read straight from the table."""
    store = open_store(db)
    try:
        rows = store.conn.execute(
            "SELECT candidate_id, result FROM simulations WHERE status = 'COMPLETE' ORDER BY id"
        ).fetchall()
    finally:
        store.close()
    return {cid: json.loads(result) for cid, result in rows}


def drawn_values(fig: Figure) -> list[float]:
    """The figure's polyline turned back into dollars (and its x spacing checked)."""
    assert fig.svg is not None, f"{fig.candidate_id}: no chart"
    left, top, width, height = (float(v) for v in fig.svg["data-plot"].split())
    lo, hi = float(fig.svg["data-y-min"]), float(fig.svg["data-y-max"])
    n = len(fig.points)
    assert int(fig.svg["data-points"]) == n
    for i, (x, _) in enumerate(fig.points):
        expected = left + (width * i / (n - 1) if n > 1 else width / 2)
        assert abs(x - expected) <= 0.006, (fig.candidate_id, i, x, expected)
    return [hi - (y - top) / height * (hi - lo) for _, y in fig.points]


def assert_matches(fig: Figure, dates: list[str], values: list[float]) -> None:
    assert fig.svg is not None
    got = drawn_values(fig)
    assert len(got) == len(values), (fig.candidate_id, len(got), len(values))
    lo, hi = float(fig.svg["data-y-min"]), float(fig.svg["data-y-max"])
    height = float(fig.svg["data-plot"].split()[3])
    assert lo <= min(values) and max(values) <= hi
    tolerance = (hi - lo) / height * 0.006  # points are written to 0.01 px
    worst = max(abs(a - b) for a, b in zip(got, values, strict=True))
    assert worst <= tolerance, (fig.candidate_id, worst, tolerance)


def _f(x: float) -> str:
    text = f"{x:.2f}"
    return "0.00" if text == "-0.00" else text


def _caption(c: dict[str, Any]) -> str:
    s = c["simulation"]
    return (
        f"Sharpe {_f(s['sharpe'])} · fitness {_f(s['fitness'])} · turnover {_f(s['turnover'] * 100)}% · "
        f"returns {_f(s['returns'] * 100)}%"
    )


def test_the_plot_draws_every_stored_pnl_point(
    capsys: pytest.CaptureFixture[str], store_url: str, tmp_path: Path
) -> None:
    report = _json(capsys, "run-batch", "--generate", "8", "--seed", "11", "--db", store_url)
    run_id = report["run_id"]
    out = tmp_path / "plots" / "run.html"  # a missing folder is made
    doc = _json(capsys, "runs", "show", run_id, "--plot", str(out), "--db", store_url)
    assert out.is_file()
    page = parse(out)
    assert page.loads == [], f"the page would load or run something: {page.loads}"

    by_id = {c["candidate_id"]: c for c in doc["candidates"]}
    simulated = [c for c in doc["candidates"] if c["simulation"] and c["simulation"]["status"] == "COMPLETE"]
    assert len(simulated) >= 4, "a seeded batch of 8 should simulate several candidates"
    assert len(page.figures) == len(simulated)
    best, *rest = page.figures
    assert best.cls == "best" and best.candidate_id == doc["yield"]["best"]["candidate_id"]
    assert all(f.cls == "small" for f in rest)
    order = [
        (by_id[f.candidate_id]["simulation"]["sharpe"], by_id[f.candidate_id]["simulation"]["fitness"])
        for f in page.figures
    ]
    assert order == sorted(order, reverse=True), "not best first"

    stored = stored_pnl(store_url)
    for fig in page.figures:
        c = by_id[fig.candidate_id]
        assert fig.texts["expr"] == c["expression"]
        assert fig.texts["metrics"] == _caption(c)
        failed = c["simulation"]["failed_checks"]
        assert fig.texts["checks"] == ("failed: " + ", ".join(failed) if failed else "passed every check")
        pnl = stored[fig.candidate_id]["pnl"]
        assert_matches(fig, pnl["dates"], pnl["values"])
    err = capsys.readouterr().err
    assert "Traceback" not in err


def test_the_text_output_and_the_plot_together(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    report = _json(capsys, "run-batch", "--generate", "3", "--seed", "4")
    out = tmp_path / "p.html"
    assert run(["runs", "show", report["run_id"], "--plot", str(out)]) == 0
    captured = capsys.readouterr()
    assert "best alpha" in captured.out and "[bold]" not in captured.out
    assert str(out) in captured.err and "PnL charts" in captured.err
    assert parse(out).figures


def test_a_run_without_simulations_says_so(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    report = _json(capsys, "run-batch", "--generate", "2", "--simulate", "none")
    out = tmp_path / "p.html"
    _json(capsys, "runs", "show", report["run_id"], "--plot", str(out))
    page = parse(out)
    assert page.figures == [] and "No candidate of this run was simulated" in page.text


def test_an_unknown_run_writes_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "p.html"
    assert run(["runs", "show", "run_nope", "--plot", str(out)]) == 2
    assert "run_nope" in capsys.readouterr().err
    assert not out.exists()


# -- BRAIN results: the PnL when the recordset is there, the reason when it is not -----------------


@pytest.fixture
def brain(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeBrain]:
    with signed_in(monkeypatch, tmp_path) as fake:
        # a real BRAIN knows the whole catalogue; give the fake the shipped pack's names
        pack = load_knowledge_pack(Path(__file__).resolve().parents[2] / "data" / "meta" / "index")
        known_ops = {o["name"] for o in fake.operators}
        fake.operators += [
            {"name": n, "definition": o.signature} for n, o in pack.operators.items() if n not in known_ops
        ]
        known_fields = {f["id"] for f in fake.fields}
        fake.fields += [{"id": f} for f in pack.fields if f not in known_fields]
        yield fake


@pytest.mark.parametrize("recordset", ["there", "missing"])
def test_brain_results(
    capsys: pytest.CaptureFixture[str],
    brain: FakeBrain,
    tmp_path: Path,
    _isolated_store: Path,
    recordset: str,
) -> None:
    if recordset == "missing":
        original = brain.handle

        def handle(method: str, target: str, headers: dict[str, str], raw: bytes) -> Any:
            if method == "GET" and "/recordsets/" in target:
                return 404, {"Content-Type": "application/json"}, b'{"detail": "Not found."}'
            return original(method, target, headers, raw)

        brain.handle = handle  # type: ignore[method-assign]
    report = _json(
        capsys, "run-batch", "--generate", "4", "--seed", "6", "--simulate", "brain", "--brain-url", brain.url
    )
    out = tmp_path / "brain.html"
    _json(capsys, "runs", "show", report["run_id"], "--plot", str(out))
    page = parse(out)
    stored = stored_pnl(str(_isolated_store))
    assert page.figures and len(page.figures) == len(stored)
    for fig in page.figures:
        result = stored[fig.candidate_id]
        if recordset == "there":
            assert fig.svg is not None and fig.unavailable is None
            assert_matches(fig, result["pnl"]["dates"], result["pnl"]["values"])
        else:
            assert fig.svg is None, "a chart was drawn without a stored PnL"
            assert result["pnl"] is None and result["pnl_unavailable"]
            assert " ".join(fig.texts["nochart"].split()) == f"PnL unavailable: {result['pnl_unavailable']}"
            assert "Sharpe" in fig.texts["metrics"]


# -- the page itself -------------------------------------------------------------------------------


def _panel(cid: str, expression: str, values: tuple[float, ...] = (1.0, -2.0, 3.0)) -> Panel:
    return Panel(
        candidate_id=cid,
        lane="exploit",
        expression=expression,
        backend="local",
        sharpe=1.5,
        fitness=0.5,
        turnover=0.1234,
        returns=-0.05,
        passed=False,
        failed_checks=("LOW_FITNESS",),
        dates=tuple(f"2020-01-{i + 1:02d}" for i in range(len(values))),
        values=values,
        unavailable=None,
    )


def test_user_text_is_escaped_and_small_multiples_are_capped(tmp_path: Path) -> None:
    hostile = '<script>alert("x")</script> & [bold]'
    items = [_panel("c0", hostile)] + [_panel(f"c{i}", f"rank(x{i})") for i in range(1, MAX_SMALL + 5)]
    html = render(
        {"run_id": "run_<i>", "kind": "batch", "status": "completed"},
        items,
        Yield(),
        candidates=80,
        simulated=len(items) + 10,
        version="t",
    )
    out = tmp_path / "p.html"
    out.write_text(html)
    page = parse(out)
    assert page.loads == []
    assert page.figures[0].texts["expr"] == hostile
    assert page.figures[0].texts["metrics"] == "Sharpe 1.50 · fitness 0.50 · turnover 12.34% · returns -5.00%"
    assert len(page.figures) == 1 + MAX_SMALL
    assert "14 more simulated candidates are not drawn" in " ".join(page.text.split())
    assert [round(v, 2) for v in drawn_values(page.figures[0])] == [1.0, -2.0, 3.0]
