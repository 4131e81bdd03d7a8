"""The cap is a promise on every path: the spec's chain, every LLM command, slow calls across OS
processes, a provider that bills more than we count, and a failure code naming the binding cap."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import typer

from brain_agent.cli import run
from brain_agent.cli.app import app
from brain_agent.cli.lazy import load_all
from brain_agent.generation.budget import ScopeKey, plan_lanes
from brain_agent.generation.budget.lanes import PlannedIdea
from brain_agent.llm.tokenizer import count_tokens

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "artifacts" / "step-08" / "ideaspec.example.json"
KNOWLEDGE = REPO / "data" / "meta" / "index"
sys.path.insert(0, str(REPO / "tests"))
from llm.fake_openai import FakeOpenAIServer  # noqa: E402
from processes import finish_all  # noqa: E402


def _config(tmp_path: Path, name: str = "budget.json", **overrides: Any) -> Path:
    data = json.loads((REPO / "configs" / "llm_budget.json").read_text())
    data.update({"max_cost_per_day": None, "max_cost_per_week": None, **overrides})
    path = tmp_path / name
    path.write_text(json.dumps(data))
    (tmp_path / "prices.json").write_text((REPO / "configs" / "prices.json").read_text())
    return path


def _cli(*args: str, db: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "brain_agent.cli", *args],
        cwd=REPO,
        env={**os.environ, "BRAIN_AGENT_DB": str(db), "OPENAI_API_KEY": "sk-test"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _spent(db: Path) -> int:
    """Tokens settled in the ledger today, read from the database directly."""
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT COALESCE(SUM(spent), 0) FROM budget_charges WHERE scope_key LIKE 'day:%' "
            "AND state = 'settled'"
        ).fetchone()
    return int(row[0])


def _billed(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT COALESCE(SUM(uncached_input + cached_input + cache_write + output + reasoning), 0) "
            "FROM llm_calls WHERE cache_hit = 0 AND error IS NULL"
        ).fetchone()
    return int(row[0])


# -- the spec's chain -----------------------------------------------------------------------------
def test_spec_chain_is_charged_call_by_call_then_blocked(tmp_path: Path) -> None:
    db = tmp_path / "chain.db"
    config = _config(tmp_path, max_tokens_per_day=9_000)
    idea, pack = tmp_path / "idea.json", tmp_path / "pack.json"
    assert (
        run(
            [
                "run-idea-agent",
                "--input",
                str(EXAMPLE),
                "--output",
                str(idea),
                "--config",
                str(config),
                "--db",
                str(db),
            ]
        )
        == 0
    )
    after_idea = _spent(db)
    assert after_idea > 0 and after_idea == _billed(db)
    assert run(["build-retrieval-pack", "--idea", str(idea), "--output", str(pack), "--db", str(db)]) == 0
    codes = []
    for seed in range(1, 8):
        out = tmp_path / f"cand{seed}.json"
        code = run(
            [
                "run-alpha-maker",
                "--idea",
                str(idea),
                "--retrieval-pack",
                str(pack),
                "--output",
                str(out),
                "--knowledge-pack-dir",
                str(KNOWLEDGE),
                "--config",
                str(config),
                "--db",
                str(db),
                "--seed",
                str(seed),
            ]
        )
        codes.append(code)
        assert _spent(db) == _billed(db)  # every call charged as it happened
        if code == 3:
            assert not out.exists()
            break
    assert codes[0] == 0 and codes[-1] == 3, codes
    assert _spent(db) <= 9_000
    status = _cli("budget", "status", "--config", str(config), "--db", str(db), "--json", db=db)
    day = next(s for s in json.loads(status.stdout)["scopes"] if s["scope"] == "day")
    assert day["spent"] == _billed(db) and day["reserved"] == 0
    with sqlite3.connect(db) as conn:
        blocked = conn.execute("SELECT payload FROM events WHERE name = 'budget.blocked'").fetchall()
        statuses = {r[0] for r in conn.execute("SELECT status FROM runs WHERE kind = 'alpha-maker'")}
    assert [json.loads(b[0])["failure_code"] for b in blocked] == ["BUDGET_DAY_TOKENS"]
    assert "blocked" in statuses


def test_blocked_chain_call_names_the_day_cap(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    config = _config(tmp_path, max_tokens_per_day=50)
    r = _cli(
        "run-idea-agent",
        "--input",
        str(EXAMPLE),
        "--output",
        str(tmp_path / "i.json"),
        "--config",
        str(config),
        db=db,
    )
    assert r.returncode == 3, r.stderr
    assert "BUDGET_DAY_TOKENS" in r.stderr and "Traceback" not in r.stderr
    assert _billed(db) == 0


# -- no command reaches a provider without the gate -----------------------------------------------
def _llm_commands() -> dict[str, Any]:
    load_all()  # commands load lazily: walk every one, not only those an earlier test happened to load
    group = typer.main.get_group(app)
    out: dict[str, Any] = {}

    def walk(cmd: Any, prefix: str) -> None:
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{prefix}{name} ")
        params = {p.name for p in getattr(cmd, "params", [])}
        if "llm_provider" in params:
            out[prefix.strip()] = params

    walk(group, "")
    return out


def test_every_llm_command_goes_through_the_gate(tmp_path: Path) -> None:
    """Walks the CLI: every command that names an LLM provider takes --config and --db, and on a
    30-token day cap it makes no call at all and exits 3 naming the day cap. A new LLM command without an
    entry here fails this test until it is added (and gated)."""
    idea, pack = tmp_path / "idea.json", tmp_path / "pack.json"
    assert run(["build-retrieval-pack", "--idea", str(EXAMPLE), "--output", str(pack)]) == 0
    idea.write_text(EXAMPLE.read_text())
    args = {
        "run-idea-agent": ["--input", str(EXAMPLE), "--output", str(tmp_path / "o.json")],
        "run-alpha-maker": [
            "--idea",
            str(idea),
            "--retrieval-pack",
            str(pack),
            "--output",
            str(tmp_path / "c.json"),
            "--knowledge-pack-dir",
            str(KNOWLEDGE),
        ],
        "run-batch": ["--generate", "4", "--simulate", "none"],
        "estimate-prompt-cost": ["--retrieval-pack", str(pack), "--knowledge-pack-dir", str(KNOWLEDGE)],
    }
    commands = _llm_commands()
    assert set(commands) == set(args), f"LLM commands changed: {sorted(commands)}"
    config = _config(tmp_path, max_tokens_per_day=30)
    for name, params in commands.items():
        assert {"config", "db"} <= params, name
        db = tmp_path / f"{name}.db"
        r = _cli(*name.split(), *args[name], "--config", str(config), "--db", str(db), db=db)
        assert r.returncode == 3, (name, r.stdout, r.stderr)
        assert "BUDGET_DAY_TOKENS" in r.stderr, (name, r.stderr)
        assert _billed(db) == 0, name


# -- binding scope of planning-time deferrals -----------------------------------------------------
@pytest.mark.parametrize(
    ("shared", "binding"),
    [
        ({"batch:b": 5_000, "day:d": 90_000, "week:w": 900_000}, "batch:b"),
        ({"batch:b": 50_000, "day:d": 4_000, "week:w": 900_000}, "day:d"),
        ({"batch:b": 50_000, "day:d": 90_000, "week:w": 3_000}, "week:w"),
    ],
)
def test_deferral_names_the_scope_that_bound(shared: dict[str, int], binding: str) -> None:
    ideas = [PlannedIdea(f"i{n}", "exploit", 10 - n, 2_000) for n in range(6)]
    plan = plan_lanes(ideas, shared_available=shared, lane_available={"exploit": 10**6}, min_explore=0)
    assert plan.deferred and {d.scope for d in plan.deferred} == {binding}
    for d in plan.deferred:
        assert d.needed > shared[binding]  # observed is above the limit, never below
    assert ScopeKey.parse(binding).failure_code.startswith("BUDGET_")


def test_lane_deferral_names_the_lane() -> None:
    ideas = [PlannedIdea(f"e{n}", "explore", 5, 2_000) for n in range(4)]
    plan = plan_lanes(
        ideas, shared_available={"batch:b": 10**6}, lane_available={"explore": 5_000}, min_explore=2
    )
    assert [d.scope for d in plan.deferred] == ["explore", "explore"]
    assert ScopeKey.lane_of("b", "explore").failure_code == "BUDGET_LANE_EXPLORE_TOKENS"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"max_tokens_per_day": 6_000}, "BUDGET_DAY_TOKENS"),
        ({"max_tokens_per_week": 6_000}, "BUDGET_WEEK_TOKENS"),
        (
            {
                "max_tokens_per_batch": 9_000,
                "expansion_reserve_tokens": 1_000,
                "min_explore_candidates_per_batch": 0,
                "max_completion_tokens": 1_000,
            },
            "BUDGET_LANE_EXPLOIT_TOKENS",
        ),
        ({"max_cost_per_day": "0.000001"}, "BUDGET_DAY_COST"),
        ({"max_cost_per_week": "0.000001"}, "BUDGET_WEEK_COST"),
    ],
)
def test_run_batch_blocks_with_the_binding_code(tmp_path: Path, overrides: dict[str, Any], code: str) -> None:
    db = tmp_path / "b.db"
    config = _config(tmp_path, **overrides)
    model = ["--llm-provider", "mock"]
    if "cost" in code:  # a priced model, so the money cap binds (served by a fake endpoint)
        with FakeOpenAIServer() as server:
            r = _cli(
                "run-batch",
                "--generate",
                "6",
                "--simulate",
                "none",
                "--config",
                str(config),
                "--json",
                "--llm-provider",
                "openai",
                "--model",
                "gpt-4o",
                "--base-url",
                server.base_url,
                db=db,
            )
    else:
        r = _cli(
            "run-batch",
            "--generate",
            "6",
            "--simulate",
            "none",
            "--config",
            str(config),
            "--json",
            *model,
            db=db,
        )
    assert r.returncode == 3, r.stderr
    report = json.loads(r.stdout)
    assert code in report["blocked_codes"], (report["blocked_codes"], r.stderr)
    with sqlite3.connect(db) as conn:
        payloads = [
            json.loads(p[0]) for p in conn.execute("SELECT payload FROM events WHERE name = 'budget.blocked'")
        ]
    for p in payloads:
        if p["failure_code"] == code:
            assert float(p["observed"]) > float(p["limit"]), p


def test_explore_floor_that_cannot_fit_is_refused(tmp_path: Path) -> None:
    bad = _config(tmp_path, max_tokens_per_batch=6_000, expansion_reserve_tokens=1_000)
    r = _cli("budget", "validate", str(bad), db=tmp_path / "x.db")
    assert r.returncode == 2
    assert "min_explore_candidates_per_batch" in r.stderr and "explore_ratio" in r.stderr


# -- slow calls across processes ------------------------------------------------------------------
def _held(db: Path) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return int(
                conn.execute("SELECT COUNT(*) FROM budget_reservations WHERE state = 'held'").fetchone()[0]
            )
    except sqlite3.OperationalError:
        return 0


def _alpha_maker(tmp_path: Path, db: Path, config: Path, seed: int, latency: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "brain_agent.cli",
            "run-alpha-maker",
            "--idea",
            str(EXAMPLE),
            "--retrieval-pack",
            str(tmp_path / "pack.json"),
            "--output",
            str(tmp_path / f"c{seed}.json"),
            "--knowledge-pack-dir",
            str(KNOWLEDGE),
            "--config",
            str(config),
            "--db",
            str(db),
            "--seed",
            str(seed),
            "--latency",
            str(latency),
        ],
        cwd=REPO,
        env={**os.environ, "BRAIN_AGENT_DB": str(db)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.mark.slow
def test_calls_slower_than_the_lease_keep_their_room(tmp_path: Path) -> None:
    """Wave 1 holds the whole day cap with calls lasting 5 leases; wave 2 starts after the lease
    has passed. With heartbeats the holds are renewed, so wave 2 is refused and nothing passes."""
    db = tmp_path / "shared.db"
    lease = 5.0
    assert run(["build-retrieval-pack", "--idea", str(EXAMPLE), "--output", str(tmp_path / "pack.json")]) == 0
    probe_db = tmp_path / "probe.db"
    probe = _alpha_maker(tmp_path, probe_db, _config(tmp_path, "probe.json"), 99, 0.0)
    assert probe.wait(timeout=120) == 0, probe.communicate()[1]
    probe.communicate()
    with sqlite3.connect(probe_db) as conn:
        per_call = int(conn.execute("SELECT reserved_tokens FROM budget_reservations").fetchone()[0])
    cap = 3 * per_call + per_call // 2
    config = _config(tmp_path, lease_seconds=lease, max_tokens_per_day=cap)
    first = [_alpha_maker(tmp_path, db, config, seed, 5 * lease) for seed in (1, 2, 3)]
    _wait(lambda: _held(db) == 3, 60)
    time.sleep(lease + 1.0)  # every first-wave hold is past its original lease now
    second = [_alpha_maker(tmp_path, db, config, seed, 0.0) for seed in (4, 5, 6)]
    results = [(p.wait(timeout=120), p.communicate()[1]) for p in first + second]
    assert [c for c, _ in results[:3]] == [0, 0, 0], results
    assert [c for c, _ in results[3:]] == [3, 3, 3], results
    assert _spent(db) <= cap
    with sqlite3.connect(db) as conn:
        late = conn.execute("SELECT COUNT(*) FROM budget_reservations WHERE late = 1").fetchone()[0]
    assert late == 0


@pytest.mark.slow
def test_sigkilled_caller_releases_its_room_and_its_run_is_marked(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    lease = 5.0
    assert run(["build-retrieval-pack", "--idea", str(EXAMPLE), "--output", str(tmp_path / "pack.json")]) == 0
    config = _config(tmp_path, lease_seconds=lease)
    proc = _alpha_maker(tmp_path, db, config, 1, 120.0)
    _wait(lambda: _held(db) == 1, 60)
    killed_at = time.monotonic()
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    _wait(lambda: _held(db) == 0 or _reserved_live(db) == 0, lease + 3)
    assert time.monotonic() - killed_at <= lease + 3
    r = _cli("budget", "status", "--config", str(config), "--db", str(db), "--json", db=db)
    assert r.returncode == 0, r.stderr
    with sqlite3.connect(db) as conn:
        status = conn.execute("SELECT status FROM runs WHERE kind = 'alpha-maker'").fetchone()[0]
        marked = conn.execute("SELECT COUNT(*) FROM events WHERE name = 'run.interrupted'").fetchone()[0]
    assert (status, marked) == ("interrupted", 1)
    day = next(s for s in json.loads(r.stdout)["scopes"] if s["scope"] == "day")
    assert day["reserved"] == 0


def _reserved_live(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM budget_reservations WHERE state = 'held' AND lease_expires > ?",
            (time.time(),),
        ).fetchone()
    return int(row[0])


# -- a provider that bills more than we count -----------------------------------------------------
class OverBillingServer(FakeOpenAIServer):
    """Bills ``factor`` × our own count of the prompt, like a server with another tokenizer."""

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor
        self._local = threading.local()

    def handle(self, handler: BaseHTTPRequestHandler, path: str, body: Any) -> None:
        text = "".join(str(m.get("content", "")) for m in body.get("messages", []))
        with self.lock:
            self.prompt_tokens = int(self.factor * count_tokens(text))
            self.completion_tokens = count_tokens(self.reply)
            super().handle(handler, path, body)


@pytest.fixture
def overbilling() -> Iterator[OverBillingServer]:
    with OverBillingServer(4.0) as server:
        yield server


@pytest.mark.slow
def test_over_billing_server_cannot_push_processes_past_the_cap(
    tmp_path: Path, overbilling: OverBillingServer
) -> None:
    """Three processes against a server that bills 4× our count, with no first-call allowance at
    all (``uncalibrated_prompt_factor`` 1): the first calls overrun, are recorded, calibrate the
    biller, and the day ends within 5 % of its cap."""
    db = tmp_path / "shared.db"
    cap = 60_000
    config = _config(tmp_path, max_tokens_per_day=cap, uncalibrated_prompt_factor=1.0)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "brain_agent.cli",
                "run-batch",
                "--generate",
                "8",
                "--seed",
                str(n),
                "--simulate",
                "none",
                "--llm-provider",
                "openai",
                "--model",
                "gpt-4o-mini",
                "--base-url",
                overbilling.base_url,
                "--config",
                str(config),
                "--db",
                str(db),
                "--no-deferred",
                "--json",
            ],
            cwd=REPO,
            env={**os.environ, "BRAIN_AGENT_DB": str(db), "OPENAI_API_KEY": "sk-test"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    for p, (_, err) in zip(procs, finish_all(procs, timeout=300), strict=True):
        assert p.returncode in (0, 3), err
    billed = _billed(db)
    assert billed == _spent(db)
    assert billed <= cap * 1.05, billed
    assert billed >= cap * 0.5  # the cap was really contended
    with sqlite3.connect(db) as conn:
        overruns = conn.execute("SELECT COUNT(*) FROM events WHERE name = 'budget.overrun'").fetchone()[0]
        calibrated = conn.execute("SELECT COUNT(*) FROM events WHERE name = 'budget.calibrated'").fetchone()[
            0
        ]
    assert overruns >= 1 and calibrated >= 1
    r = _cli("budget", "status", "--config", str(config), "--db", str(db), "--json", db=db)
    assert json.loads(r.stdout)["overruns"]["day"]["calls"] == overruns


@pytest.mark.slow
def test_default_first_factor_holds_a_4x_server_exactly(
    tmp_path: Path, overbilling: OverBillingServer
) -> None:
    db = tmp_path / "one.db"
    config = _config(tmp_path, max_tokens_per_day=40_000)
    r = _cli(
        "run-batch",
        "--generate",
        "6",
        "--simulate",
        "none",
        "--llm-provider",
        "openai",
        "--model",
        "gpt-4o-mini",
        "--base-url",
        overbilling.base_url,
        "--config",
        str(config),
        "--json",
        db=db,
    )
    assert r.returncode in (0, 3), r.stderr
    assert 0 < _billed(db) <= 40_000
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM events WHERE name = 'budget.overrun'").fetchone()[0] == 0


# -- pay once -------------------------------------------------------------------------------------
@pytest.mark.slow
def test_identical_concurrent_runs_make_each_call_once(tmp_path: Path) -> None:
    db = tmp_path / "sf.db"
    config = _config(tmp_path)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "brain_agent.cli",
                "run-batch",
                "--generate",
                "4",
                "--seed",
                "7",
                "--simulate",
                "none",
                "--latency",
                "0.5",
                "--config",
                str(config),
                "--db",
                str(db),
                "--no-deferred",
                "--json",
            ],
            cwd=REPO,
            env={**os.environ, "BRAIN_AGENT_DB": str(db)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for p, (_, err) in zip(procs, finish_all(procs, timeout=300), strict=True):
        assert p.returncode == 0, err
    with sqlite3.connect(db) as conn:
        real, distinct = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT request_key) FROM llm_calls "
            "WHERE cache_hit = 0 AND error IS NULL"
        ).fetchone()
    assert real == distinct  # no prompt paid twice
    with sqlite3.connect(db) as conn:
        waits = conn.execute("SELECT COUNT(*) FROM events WHERE name = 'llm.single_flight_wait'").fetchone()[
            0
        ]
    assert waits > 0  # the runs really overlapped


def test_resume_pays_nothing_for_answered_ideas(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    config = _config(tmp_path)
    first = _cli(
        "run-batch",
        "--generate",
        "4",
        "--seed",
        "3",
        "--simulate",
        "none",
        "--config",
        str(config),
        "--json",
        db=db,
    )
    assert first.returncode == 0, first.stderr
    run_id = json.loads(first.stdout)["run_id"]
    with sqlite3.connect(db) as conn:  # as if the process had died mid-batch
        conn.execute("UPDATE runs SET status = 'interrupted' WHERE run_id = ?", (run_id,))
    before = _billed(db)
    again = _cli(
        "run-batch", "--resume", run_id, "--simulate", "none", "--config", str(config), "--json", db=db
    )
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["ideas"] == 4 and report["cache_hits"] >= 4
    assert _billed(db) == before
