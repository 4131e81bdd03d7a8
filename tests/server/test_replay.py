"""Replay is served: ``reactor_status?at=EVENT_ID`` equals the live view folded up to that event, from
stored checkpoints or not; the same over the replay WebSocket."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from brain_agent.storage.checkpoint_store import CheckpointStore
from brain_agent.storage.sqlite_store import SQLiteStore
from brain_agent.telemetry import checkpoint
from brain_agent.telemetry.views import RunView

from .conftest import BASE, WS_BASE, make_app
from .eventgen import realistic_run


def _expected(db: Path, run_id: str, at: int) -> dict[str, object]:
    """What the live view showed right after event ``at``: a fresh reducer fed events <= at, seen
    at that event's time."""
    store = SQLiteStore(db)
    view = RunView(run_id)
    view.apply_many(e for e in store.events(run_id, limit=100_000) if e.id <= at)
    store.close()
    out = view.snapshot(view.last_ts or 0.0, status=view.status or "running")
    out["at"] = at
    return json.loads(json.dumps(out))  # type: ignore[no-any-return]


def _ids(db: Path, run_id: str) -> list[int]:
    store = SQLiteStore(db)
    ids = [e.id for e in store.events(run_id, limit=100_000)]
    store.close()
    return ids


def test_at_every_event_matches_a_fresh_fold(db: Path) -> None:
    ids = _ids(db, "run_old")
    with TestClient(make_app(db, checkpoint_every=100), base_url=BASE) as client:
        for at in [*ids[::3], ids[-1], *reversed(ids[::5])]:  # forward, then scrubbing backwards
            got = client.get("/api/runs/run_old/reactor_status", params={"at": at})
            assert got.status_code == 200, got.text
            assert got.json() == _expected(db, "run_old", at), at


def test_at_the_last_event_is_the_final_live_view(db: Path) -> None:
    last = _ids(db, "run_old")[-1]
    with TestClient(make_app(db), base_url=BASE) as client:
        live = client.get("/api/runs/run_old/reactor_status").json()
        replay = client.get("/api/runs/run_old/reactor_status", params={"at": last}).json()
    assert replay.pop("at") == last
    assert replay == live
    assert live["status"] == "completed"
    assert live["reactor"]["time_to_exhaustion_s"] is None  # finished runs forecast nothing


def test_checkpoints_are_written_and_used(tmp_path: Path) -> None:
    db = tmp_path / "big.db"
    store = SQLiteStore(db)
    realistic_run(store, "run_big", ideas=120)
    ids = [e.id for e in store.events("run_big", limit=100_000)]
    store.close()
    with TestClient(make_app(db, checkpoint_every=100), base_url=BASE) as client:
        first = client.get("/api/runs/run_big/reactor_status").json()
    store = SQLiteStore(db)
    cursors = CheckpointStore(store).cursors("run_big", checkpoint.VERSION)
    store.close()
    assert len(cursors) == len(ids) // 100
    # a new server starts from the latest checkpoint and agrees with the one that folded everything
    with TestClient(make_app(db, checkpoint_every=100), base_url=BASE) as client:
        again = client.get("/api/runs/run_big/reactor_status").json()
        mid = ids[len(ids) // 2 + 7]
        replay = client.get("/api/runs/run_big/reactor_status", params={"at": mid}).json()
    assert {k: v for k, v in again.items() if k != "as_of"} == {
        k: v for k, v in first.items() if k != "as_of"
    }
    assert replay == _expected(db, "run_big", mid)


def test_stale_or_corrupt_checkpoints_are_ignored(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    store = SQLiteStore(db)
    realistic_run(store, "run_c", ideas=4)
    last = store.last_event_id("run_c")
    cps = CheckpointStore(store)
    cps.save("run_c", "0-old", last, 1, b"old format")
    cps.save("run_c", checkpoint.VERSION, last, 1, b"not a checkpoint")
    store.close()
    with TestClient(make_app(db), base_url=BASE) as client:
        got = client.get("/api/runs/run_c/reactor_status").json()
    assert got["reactor"]["totals"]["calls"] == 4  # folded from the events, not from the bad row
    store = SQLiteStore(db)
    assert CheckpointStore(store).cursors("run_c", "0-old") == []  # other versions are dropped
    store.close()


def test_a_checkpoint_cannot_name_arbitrary_code() -> None:
    import pickle
    import zlib

    evil = zlib.compress(pickle.dumps(print))
    try:
        checkpoint.decode(evil)
    except checkpoint.CheckpointError as exc:
        assert "builtins.print" in str(exc)
    else:
        raise AssertionError("decoded a pickle naming builtins.print")


def test_replay_websocket_serves_the_latest_seek(db: Path) -> None:
    ids = _ids(db, "run_old")
    with (
        TestClient(make_app(db), base_url=BASE) as client,
        client.websocket_connect(f"{WS_BASE}/api/runs/run_old/replay?format=reactor") as ws,
    ):
        for at in (ids[10], ids[3], ids[-1]):
            ws.send_text(json.dumps({"at": at}))
            msg = json.loads(ws.receive_text())
            assert msg["type"] == "replay" and msg["at"] == at
            want = _expected(db, "run_old", at)
            assert msg["status"]["reactor"] == want["reactor"]
        ws.send_text("not json")
        err = json.loads(ws.receive_text())
        assert err["type"] == "error" and "at" in err["error"]["message"]


def test_unknown_run_ids_leave_nothing_behind(db: Path) -> None:
    app = make_app(db)
    with TestClient(app, base_url=BASE) as client:
        for i in range(2000):
            assert client.get(f"/api/runs/nope{i}/reactor_status").status_code == 404
        hub = app.state.hub
        assert hub._fold_locks == {}
        assert len(hub.entries) == 0


def test_without_a_usable_checkpoint_table_views_still_work(tmp_path: Path) -> None:
    db = tmp_path / "nocp.db"
    store = SQLiteStore(db)
    realistic_run(store, "run_n", ideas=30)
    ids = [e.id for e in store.events("run_n", limit=100_000)]
    store.conn.execute("DROP TABLE view_checkpoints")  # e.g. a store another tool damaged
    store.close()
    with TestClient(make_app(db, checkpoint_every=100), base_url=BASE) as client:
        live = client.get("/api/runs/run_n/reactor_status")
        mid = client.get("/api/runs/run_n/reactor_status", params={"at": ids[len(ids) // 2]})
    assert live.status_code == 200 and live.json()["reactor"]["totals"]["calls"] == 30
    assert mid.status_code == 200 and mid.json() == _expected(db, "run_n", ids[len(ids) // 2])
