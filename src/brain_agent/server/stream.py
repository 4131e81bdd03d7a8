"""WebSocket streams: a snapshot on connect, then coalesced updates as events land.

``/api/runs/{run_id}/stream`` follows one run; ``/api/stream/latest`` follows the newest run and
says ``{"type": "run"}`` when a newer one starts; ``/api/stream/live`` sends the fleet view (every
running run at once). ``?after=CURSOR`` resumes; ``?format=`` as in REST.
Messages are built from JSON fragments the hub encodes once per tick, so 50 clients cost one encode.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Annotated

import anyio
from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect

from brain_agent.errors import NotFoundError
from brain_agent.server.hub import SNAPSHOT_EVENTS, UPDATE_EVENTS, Hub, RunEntry, Subscriber
from brain_agent.telemetry.views import Format

router = APIRouter(prefix="/api")

CLOSE_NOT_FOUND = 4404


def _message(kind: str, entry: RunEntry, sub: Subscriber, after: int, limit: int) -> str:
    events, truncated = entry.events_after(after, limit)
    status = entry.status_json(time.time(), sub.fmt)
    sub.cursor = entry.view.cursor
    return (
        f'{{"type":"{kind}","cursor":{entry.view.cursor},"run_id":{json.dumps(entry.view.run_id)},'
        f'"truncated":{"true" if truncated else "false"},"status":{status},"events":[{",".join(events)}]}}'
    )


async def _send_snapshot(ws: WebSocket, hub: Hub, sub: Subscriber, after: int) -> None:
    assert sub.run_id is not None
    entry = hub.entries[sub.run_id]
    await ws.send_text(_message("snapshot", entry, sub, after, SNAPSHOT_EVENTS))
    sub.last_send = time.monotonic()


async def _pump(ws: WebSocket, hub: Hub, sub: Subscriber, after: int, interval: float) -> None:
    if sub.run_id is None:
        await ws.send_text(
            '{"type":"snapshot","cursor":0,"run_id":null,"truncated":false,"status":null,"events":[]}'
        )
    else:
        await _send_snapshot(ws, hub, sub, after)
    while True:
        await sub.wake.wait()
        sub.wake.clear()
        wait = sub.last_send + interval - time.monotonic()
        if wait > 0:  # coalesce: whatever lands meanwhile rides in the same message
            await asyncio.sleep(wait)
            sub.wake.clear()
        if sub.follow_latest and hub.latest_run_id is not None and hub.latest_run_id != sub.run_id:
            hub.unsubscribe(sub)
            sub.run_id = hub.latest_run_id
            await hub.entry(sub.run_id, fresh=False)
            hub.subscribe(sub)
            await ws.send_text(json.dumps({"type": "run", "run_id": sub.run_id}))
            await _send_snapshot(ws, hub, sub, 0)
            continue
        if sub.run_id is None:
            continue
        entry = hub.entries[sub.run_id]
        await ws.send_text(_message("update", entry, sub, sub.cursor, UPDATE_EVENTS))
        sub.last_send = time.monotonic()


async def _drain(ws: WebSocket) -> None:
    """Read (and ignore) client frames until the client goes away."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await ws.receive_text()


async def _serve(ws: WebSocket, run_id: str | None, follow_latest: bool, after: int, fmt: Format) -> None:
    hub: Hub = ws.app.state.hub
    interval: float = ws.app.state.settings.stream_interval_s
    if follow_latest:
        run_id = await hub.latest()
    if run_id is not None:
        try:
            await hub.entry(run_id)
        except NotFoundError as exc:
            await ws.accept()
            await ws.send_text(json.dumps({"type": "error", "error": exc.to_dict()}))
            await ws.close(code=CLOSE_NOT_FOUND, reason="run not found")
            return
    await ws.accept()
    sub = Subscriber(run_id, follow_latest=follow_latest, fmt=fmt)
    hub.subscribe(sub)
    try:
        async with anyio.create_task_group() as tg:

            async def pump() -> None:
                with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                    await _pump(ws, hub, sub, after, interval)
                tg.cancel_scope.cancel()

            async def drain() -> None:
                await _drain(ws)
                tg.cancel_scope.cancel()

            tg.start_soon(pump)
            tg.start_soon(drain)
    finally:
        hub.unsubscribe(sub)


AfterQ = Annotated[int, Query(ge=0, le=2**63 - 1)]
FormatQ = Annotated[Format, Query(alias="format")]


@router.websocket("/runs/{run_id}/stream")
async def run_stream(ws: WebSocket, run_id: str, after: AfterQ = 0, fmt: FormatQ = "both") -> None:
    await _serve(ws, run_id, False, after, fmt)


@router.websocket("/stream/latest")
async def latest_stream(ws: WebSocket, after: AfterQ = 0, fmt: FormatQ = "both") -> None:
    await _serve(ws, None, True, after, fmt)


@router.websocket("/stream/live")
async def live_stream(ws: WebSocket) -> None:
    """The fleet view (``GET /api/live/reactor_status``) as ``{"type": "live", "status": …}``:
    one on connect, then whenever the hub's cursor moves (at most every stream interval) and at
    least every heartbeat while runs are running."""
    hub: Hub = ws.app.state.hub
    interval: float = ws.app.state.settings.stream_interval_s
    await ws.accept()

    async def pump() -> None:
        sent: dict[str, object] | None = None
        sent_at = 0.0
        while True:
            now = time.monotonic()
            if sent is None or hub.cursor != sent["cursor"] or now - sent_at >= hub.heartbeat_s:
                status = await hub.fleet()  # cached briefly: the same dict again is not news
                if status is not sent or now - sent_at >= hub.heartbeat_s:
                    await ws.send_text(json.dumps({"type": "live", "status": status}, separators=(",", ":")))
                    sent, sent_at = status, now
            await asyncio.sleep(max(interval, hub.poll_interval_s))

    async with anyio.create_task_group() as tg:

        async def pumper() -> None:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                await pump()
            tg.cancel_scope.cancel()

        async def drainer() -> None:
            await _drain(ws)
            tg.cancel_scope.cancel()

        tg.start_soon(pumper)
        tg.start_soon(drainer)


async def _replay_session(ws: WebSocket, hub: Hub, run_id: str, fmt: Format) -> None:
    """Seeks in, views out. Seeks that arrive while one is being folded are coalesced: only the
    newest is answered (a dragged scrubber sends many)."""
    wanted: list[int] = []
    wake = asyncio.Event()

    async def read() -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while True:
                raw = await ws.receive_text()
                try:
                    at = json.loads(raw)["at"]
                    if isinstance(at, bool) or not isinstance(at, int) or not 0 <= at < 2**63:
                        raise ValueError
                except (ValueError, KeyError, TypeError):
                    message = 'send {"at": EVENT_ID} (a non-negative integer event id)'
                    await ws.send_text(
                        json.dumps({"type": "error", "error": {"code": "bad_seek", "message": message}})
                    )
                    continue
                wanted[:] = [at]
                wake.set()

    async def answer() -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            while True:
                await wake.wait()
                wake.clear()
                if not wanted:
                    continue
                at = wanted.pop()
                status = await hub.status_at(run_id, at, fmt)
                await ws.send_text(
                    json.dumps({"type": "replay", "run_id": run_id, "at": at, "status": status})
                )

    async with anyio.create_task_group() as tg:

        async def reader() -> None:
            await read()
            tg.cancel_scope.cancel()

        tg.start_soon(reader)
        tg.start_soon(answer)


@router.websocket("/runs/{run_id}/replay")
async def replay_stream(ws: WebSocket, run_id: str, fmt: FormatQ = "both") -> None:
    """Scrubbed replay: send ``{"at": EVENT_ID}``, get ``{"type": "replay", "at", "status"}`` with
    exactly what ``GET /api/runs/{run_id}/reactor_status?at=EVENT_ID`` returns."""
    hub: Hub = ws.app.state.hub
    try:
        await hub.entry(run_id, fresh=False)
    except NotFoundError as exc:
        await ws.accept()
        await ws.send_text(json.dumps({"type": "error", "error": exc.to_dict()}))
        await ws.close(code=CLOSE_NOT_FOUND, reason="run not found")
        return
    await ws.accept()
    await _replay_session(ws, hub, run_id, fmt)
