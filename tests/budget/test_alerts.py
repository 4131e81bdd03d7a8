"""Budget alerts: ``alert_thresholds`` on the cumulative scopes fire ``budget.threshold_crossed`` once
per window and threshold (any number of runs and processes), show in run-batch and budget status, and
are POSTed to a webhook (a real loopback HTTP receiver) whose credentials never get printed."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from brain_agent.cli import run
from brain_agent.errors import ConfigError
from brain_agent.generation.budget import parse_budget_config
from brain_agent.generation.budget.alerts import crossings
from brain_agent.generation.budget.config import budget_schema, redact_url
from brain_agent.generation.budget.gate import ScopeStatus
from brain_agent.jsonio import write_json
from brain_agent.storage import SQLiteStore, open_store
from brain_agent.storage.alert_marks import AlertMarks

from .conftest import PRICES

THRESHOLDS = [0.1, 0.3, 0.99]


# -- config -----------------------------------------------------------------------------------------
def test_schema_publishes_the_alert_keys() -> None:
    props = budget_schema()["properties"]
    assert "alert_thresholds" in props and "alert_webhook_url" in props
    cfg = parse_budget_config({})
    assert cfg.alert_thresholds == () and cfg.alert_webhook_url is None  # off by default


@pytest.mark.parametrize(
    "value",
    [["0.5"], [True], [0.8, 0.5], [0.5, 0.5], [0.0], [1.2], 0.5, [float("nan")], [None]],
)
def test_bad_thresholds_are_refused_naming_the_key(value: Any) -> None:
    with pytest.raises(ConfigError) as err:
        parse_budget_config({"alert_thresholds": value}, "b.json")
    assert "alert_thresholds" in err.value.message and "b.json" in err.value.message


def test_bad_webhook_url_is_refused_without_echoing_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write_json(
        tmp_path / "llm_budget.json",
        {"price_table": str(PRICES), "alert_webhook_url": "ftp://me:hunter2@example.org/x?key=s3cr3t"},
    )
    assert run(["budget", "validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "alert_webhook_url" in err and "hunter2" not in err and "s3cr3t" not in err


def test_redact_url() -> None:
    assert redact_url("https://u:p@hooks.example:8443/a/b?token=x#f") == "https://hooks.example:8443/a/b"
    assert redact_url("http://127.0.0.1:9/hook") == "http://127.0.0.1:9/hook"


# -- the pure rule ----------------------------------------------------------------------------------
def _status(
    scope: str, spent: int | Decimal, limit: int | Decimal | None, unit: str = "tokens"
) -> ScopeStatus:
    return ScopeStatus(scope, f"{scope}:w", unit, limit, spent, 0, None, "2026-12-08T00:00:00Z")


def test_crossings_only_on_cumulative_scopes_with_a_cap() -> None:
    rows = [
        _status("day", 800, 1000),
        _status("week", 100, 1000),
        _status("money_day", Decimal("0.5"), Decimal("0.5"), "usd"),
        _status("money_week", Decimal(1), None, "usd"),
        _status("batch", 999, 1000),
        _status("lane", 999, 1000),
    ]
    got = {(c.scope, c.threshold) for c in crossings(rows, [0.5, 0.8, 0.95])}
    assert got == {("day", 0.5), ("day", 0.8), ("money_day", 0.5), ("money_day", 0.8), ("money_day", 0.95)}
    assert crossings([_status("day", 799, 1000)], [0.8]) == []


def test_a_mark_is_claimed_once_across_threads(tmp_path: Path) -> None:
    db = tmp_path / "marks.db"
    SQLiteStore(db)
    wins: list[bool] = []
    lock = threading.Lock()

    def claim() -> None:
        got = AlertMarks(SQLiteStore(db)).claim(
            "day:2026-12-07@UTC", "0.8", run_id="r", share="0.81", now=1.0
        )
        with lock:
            wins.append(got)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1 and len(wins) == 8
    assert AlertMarks(SQLiteStore(db)).claim("day:2026-12-08@UTC", "0.8", run_id="r", share="0.9", now=2.0)


# -- end to end -------------------------------------------------------------------------------------
class _Receiver:
    """A loopback HTTP server that records every POST body (and answers ``status``)."""

    def __init__(self, status: int = 204) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.auth: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                outer.bodies.append(json.loads(self.rfile.read(length)))
                outer.paths.append(self.path)
                outer.auth.append(self.headers.get("Authorization", ""))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    r = _Receiver()
    yield r
    r.close()


def _config(tmp_path: Path, **extra: Any) -> Path:
    return write_json(
        tmp_path / "llm_budget.json",
        {
            "price_table": str(PRICES),
            "max_tokens_per_day": 12_000,
            "max_completion_tokens": 1000,
            "alert_thresholds": THRESHOLDS,
            **extra,
        },
    )


def _batch(
    db: str, config: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any], str]:
    code = run(
        [
            "run-batch",
            "--generate",
            "3",
            "--db",
            db,
            "--config",
            str(config),
            "--simulate",
            "none",
            *extra,
            "--json",
        ]
    )
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def _fired(db: str) -> list[dict[str, Any]]:
    store = open_store(db)
    return [e.payload for e in store.events(limit=10_000, names=["budget.threshold_crossed"])]


def test_thresholds_fire_once_per_window_on_either_backend(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    code, first, _ = _batch(store_url, config, capsys)
    assert code == 0
    assert run(["budget", "status", "--db", store_url, "--config", str(config), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    day = next(s for s in status["scopes"] if s["scope"] == "day")
    share = day["spent"] / day["limit"]
    expected = {t for t in THRESHOLDS if share >= t}
    assert expected and 0.99 not in expected  # the batch crossed some, not all
    assert {a["threshold"] for a in first["alerts"]} == expected
    assert all(a["scope_key"] == day["scope_key"] for a in first["alerts"])
    # the next batch in the same window fires only what it newly crosses
    code, second, _ = _batch(store_url, config, capsys, "--seed", "7")
    fired = _fired(store_url)
    keys = [(p["scope_key"], p["threshold"]) for p in fired]
    assert len(keys) == len(set(keys))  # never twice for one window and threshold
    assert not {a["threshold"] for a in second["alerts"]} & expected
    for payload in fired:
        assert payload["unit"] == "tokens" and payload["share"] >= payload["threshold"]
        assert payload["limit"] == 12_000
    # budget status shows them, with the run that fired each
    assert run(["budget", "status", "--db", store_url, "--config", str(config), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)["alerts"]
    assert shown["thresholds"] == THRESHOLDS and shown["webhook"] is False
    assert {(a["scope_key"], a["threshold"]) for a in shown["crossed"]} == set(keys)
    assert all(a["fired_at"] and a["run_id"] in (first["run_id"], second["run_id"]) for a in shown["crossed"])
    assert run(["budget", "status", "--db", store_url, "--config", str(config)]) == 0
    text = capsys.readouterr().out
    assert "budget alerts at 10%, 30%, 99%" in text and f"by {first['run_id']}" in text


def test_run_batch_text_output_names_the_alert(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path)
    db = str(tmp_path / "s.db")
    code = run(["run-batch", "--generate", "3", "--db", db, "--config", str(config), "--simulate", "none"])
    captured = capsys.readouterr()
    assert code == 0
    assert "budget alert: day:" in captured.err  # live, as it fires
    assert "crossed 10% of its cap" in captured.out  # and in the closing report


def test_no_thresholds_no_events(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, alert_thresholds=[])
    db = str(tmp_path / "s.db")
    code, report, _ = _batch(db, config, capsys)
    assert code == 0 and report["alerts"] == [] and _fired(db) == []
    assert run(["budget", "status", "--db", db, "--config", str(config)]) == 0
    assert "budget alerts: off" in capsys.readouterr().out


def test_webhook_gets_each_alert_and_credentials_are_never_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], receiver: _Receiver
) -> None:
    url = f"http://hookuser:hunter2@127.0.0.1:{receiver.port}/alerts?token=s3cr3t"
    config = _config(tmp_path, alert_webhook_url=url)
    db = str(tmp_path / "s.db")
    code = run(["run-batch", "--generate", "3", "--db", db, "--config", str(config), "--simulate", "none"])
    captured = capsys.readouterr()
    assert code == 0
    fired = _fired(db)
    assert fired and len(receiver.bodies) == len(fired)
    assert all(b["event"] == "budget.threshold_crossed" for b in receiver.bodies)
    assert [(b["scope_key"], b["threshold"]) for b in receiver.bodies] == [
        (p["scope_key"], p["threshold"]) for p in fired
    ]
    assert receiver.paths[0] == "/alerts?token=s3cr3t"  # the receiver gets the URL as configured
    assert receiver.auth[0] == "Basic " + base64.b64encode(b"hookuser:hunter2").decode()
    assert run(["budget", "status", "--db", db, "--config", str(config), "--json"]) == 0
    shown = capsys.readouterr().out
    everything = captured.out + captured.err + shown + json.dumps(fired)
    everything += json.dumps(SQLiteStore(Path(db)).list_runs(10), default=str)
    assert "hunter2" not in everything and "s3cr3t" not in everything


def test_a_failing_webhook_is_a_warning_with_a_redacted_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    down = _Receiver(status=500)
    try:
        url = f"http://u:hunter2@127.0.0.1:{down.port}/hook?key=s3cr3t"
        config = _config(tmp_path, alert_webhook_url=url)
        db = str(tmp_path / "s.db")
        code = run(
            ["run-batch", "--generate", "3", "--db", db, "--config", str(config), "--simulate", "none"]
        )
    finally:
        down.close()
    err = capsys.readouterr().err
    assert code == 0
    assert f"webhook http://127.0.0.1:{down.port}/hook answered HTTP 500" in err
    assert "hunter2" not in err and "s3cr3t" not in err
    assert _fired(db)  # the event is logged whatever the webhook did
