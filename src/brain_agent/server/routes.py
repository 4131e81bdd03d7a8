"""REST routes under /api. Thin: parse, ask the hub or the store, shape the answer."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response

from brain_agent import __version__
from brain_agent.server import schemas
from brain_agent.server.hub import Hub, RunEntry
from brain_agent.server.kpi_yield import closing_yield
from brain_agent.storage.candidate_detail import candidate_detail as detail_query
from brain_agent.telemetry.views import Extra, Format

MAX_CURSOR = 2**63 - 1
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": schemas.ErrorResponse, "description": "Unknown run"},
    422: {"model": schemas.ErrorResponse, "description": "A bad parameter (the field is named)"},
}

router = APIRouter(
    prefix="/api", responses={401: {"model": schemas.ErrorResponse, "description": "Token needed"}}
)

RunId = Annotated[str, Path(min_length=1, max_length=200, description="The run id (see GET /api/runs).")]
FormatQ = Annotated[
    Format, Query(alias="format", description="both (default), chart (series/gauges/flags) or reactor (HUD).")
]


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def _json(data: Any) -> Response:
    return Response(
        json.dumps(data, separators=(",", ":"), ensure_ascii=False), media_type="application/json"
    )


def _summary(entry: RunEntry, run_id: str, now: float) -> dict[str, Any]:
    row = entry.row or {}
    return {
        "run_id": run_id,
        "kind": row.get("kind", "unknown"),
        "status": entry.status,
        "started_at": row.get("created_at", entry.view.first_ts),
        "finished_at": row.get("finished_at"),
        "holder": row.get("holder"),
        "headline": entry.headline(now),
    }


@router.get("/health", response_model=schemas.Health, summary="Liveness and poller state")
async def health(request: Request) -> dict[str, Any]:
    hub = hub_of(request)
    return {
        "status": "ok",
        "version": __version__,
        "cursor": hub.cursor,
        "poller": hub.poller_running,
        "runs_cached": len(hub.entries),
        "subscribers": hub.subscriber_count,
    }


@router.get("/runs", response_model=schemas.RunList, summary="Runs, newest first, with headline numbers")
async def list_runs(request: Request, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
    hub = hub_of(request)
    rows = await asyncio.to_thread(hub.store.list_runs, limit)
    now = time.time()
    runs = []
    for row in rows:
        entry = await hub.entry(row["run_id"], fresh=False)
        entry.row = row
        runs.append(_summary(entry, row["run_id"], now))
    return {"runs": runs, "follow": await hub.latest()}


@router.get("/runs/{run_id}", response_model=schemas.RunDetail, responses=ERRORS, summary="One run")
async def get_run(request: Request, run_id: RunId) -> dict[str, Any]:
    entry = await hub_of(request).entry(run_id)
    row = entry.row or {}
    return {
        **_summary(entry, run_id, time.time()),
        "config": row.get("config", {}),
        "summary": row.get("summary", {}),
    }


@router.get(
    "/live/reactor_status",
    response_model=schemas.LiveStatus,
    summary="The fleet view: one reactor over every running run, on the shared day/week/money scopes",
)
async def live_status(request: Request) -> Response:
    return _json(await hub_of(request).fleet())


AtQ = Annotated[
    int | None,
    Query(
        ge=0,
        le=MAX_CURSOR,
        description="Replay: the view exactly as it was right after this event id (what the live view "
        "showed then). Omit for now.",
    ),
]


async def _status(
    request: Request, run_id: str, fmt: Format, extra: Extra | None, at: int | None = None
) -> Response:
    hub = hub_of(request)
    if at is not None:
        return _json(await hub.status_at(run_id, at, fmt, extra))
    entry = await hub.entry(run_id)
    return _json(entry.status_dict(time.time(), fmt, extra))


@router.get(
    "/runs/{run_id}/reactor_status",
    response_model=schemas.ReactorStatus,
    responses=ERRORS,
    summary="The reactor view (HUD and chart formats)",
)
async def reactor_status(request: Request, run_id: RunId, fmt: FormatQ = "both", at: AtQ = None) -> Response:
    return await _status(request, run_id, fmt, None, at)


@router.get(
    "/runs/{run_id}/budget",
    response_model=schemas.ReactorStatus,
    responses=ERRORS,
    summary="The reactor view plus the budget ledger summary",
)
async def budget(request: Request, run_id: RunId, fmt: FormatQ = "both", at: AtQ = None) -> Response:
    return await _status(request, run_id, fmt, "budget", at)


@router.get(
    "/runs/{run_id}/kpi",
    response_model=schemas.ReactorStatus,
    responses=ERRORS,
    summary="The reactor view plus KPIs per batch and the run's yield (tokens and cost per valid "
    "candidate and per passing alpha, by lane; the best alpha)",
)
async def kpi(request: Request, run_id: RunId, fmt: FormatQ = "both", at: AtQ = None) -> Response:
    hub = hub_of(request)
    if at is not None:
        out = await hub.status_at(run_id, at, fmt, "kpi")
        entry = await hub.entry(run_id, fresh=False)
        finished = out["status"] != "running"
        out["kpi"]["yield"] = closing_yield((entry.row or {}).get("summary")) if finished else None
        return _json(out)
    entry = await hub.entry(run_id)
    out = entry.status_dict(time.time(), fmt, "kpi")
    out["kpi"]["yield"] = await hub.run_yield(run_id, entry)
    return _json(out)


@router.get(
    "/runs/{run_id}/events",
    response_model=schemas.EventsPage,
    responses=ERRORS,
    summary="The run's events after a cursor, oldest first",
)
async def list_events(
    request: Request,
    run_id: RunId,
    after: Annotated[int, Query(ge=0, le=MAX_CURSOR, description="Return events with id > after.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    hub = hub_of(request)
    await hub.entry(run_id, fresh=False)  # 404 for an unknown run
    page = await asyncio.to_thread(hub.store.events, run_id, after, limit + 1)
    has_more = len(page) > limit
    page = page[:limit]
    return {
        "run_id": run_id,
        "events": [e.to_dict() for e in page],
        "next_cursor": page[-1].id if page else after,
        "has_more": has_more,
    }


@router.get(
    "/runs/{run_id}/candidates",
    response_model=schemas.CandidateList,
    responses=ERRORS,
    summary="The run's stored candidates",
)
async def list_candidates(request: Request, run_id: RunId) -> dict[str, Any]:
    hub = hub_of(request)
    await hub.entry(run_id, fresh=False)
    return {"run_id": run_id, "candidates": await asyncio.to_thread(hub.store.list_candidates, run_id)}


@router.get(
    "/runs/{run_id}/candidates/{candidate_id}",
    response_model=schemas.CandidateDetail,
    responses={**ERRORS, 404: {"model": schemas.ErrorResponse, "description": "Unknown run or candidate"}},
    summary="One candidate with its newest simulation: metrics, checks and the cumulative PnL series",
)
async def candidate_detail(
    request: Request,
    run_id: RunId,
    candidate_id: Annotated[str, Path(min_length=1, max_length=200, description="A candidate of the run.")],
) -> dict[str, Any]:
    hub = hub_of(request)
    await hub.entry(run_id, fresh=False)
    found = await asyncio.to_thread(detail_query, hub.store, run_id, candidate_id)
    if found is None:
        raise HTTPException(404, f"run {run_id!r} has no candidate {candidate_id!r}")
    return {"run_id": run_id, **found}


@router.get(
    "/runs/{run_id}/simulations",
    response_model=schemas.SimulationList,
    responses=ERRORS,
    summary="The run's newest simulations (from simulation.* events; the view keeps 1,000), oldest first",
)
async def list_simulations(
    request: Request, run_id: RunId, limit: Annotated[int, Query(ge=1, le=1000)] = 1000
) -> dict[str, Any]:
    entry = await hub_of(request).entry(run_id)
    reactor = entry.view.snapshot(time.time(), status=entry.status, fmt="reactor")["reactor"]
    return {
        "run_id": run_id,
        "simulations": entry.view.simulation_list(limit),
        "summary": reactor["simulation"],
    }
