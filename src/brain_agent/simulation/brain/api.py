"""BRAIN endpoints as plain calls: simulations, progress, alphas, recordsets, the catalogue.

Each call goes through ``BrainSession.request``; this module only knows paths and JSON shapes
(reference §1.3–§1.10).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from brain_agent.errors import ProviderError
from brain_agent.simulation.brain.session import BrainSession, describe_request
from brain_agent.simulation.brain.throttle import parse_retry_after

PAGE_LIMIT = 50
"""``/data-fields`` and ``/data-sets`` accept at most 50 per page."""
MAX_OFFSET = 10000


@dataclass(frozen=True)
class Started:
    """``POST /simulations`` answer: the progress ``location`` (201) or the per-item ``errors`` (400)."""

    location: str | None = None
    errors: Any = None
    status: int = 201
    retry_after_s: float | None = None


@dataclass(frozen=True)
class Progress:
    done: bool
    retry_after_s: float = 0.0
    progress: float | None = None
    body: dict[str, Any] = field(default_factory=dict)


def _json(resp: httpx.Response, what: str) -> Any:
    try:
        return resp.json()
    except ValueError:
        raise ProviderError(f"BRAIN {what}: answered {resp.status_code} without JSON") from None


def location_path(location: str) -> str:
    """Keep only the path (and query) of a Location, so a stored handle never names another host."""
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class BrainApi:
    def __init__(self, session: BrainSession) -> None:
        self.session = session

    # -- simulations ----------------------------------------------------------------------------

    def start(self, body: dict[str, Any] | list[dict[str, Any]]) -> Started:
        """Start one simulation (object body) or a multi-simulation (list body)."""
        resp = self.session.request("POST", "/simulations", json=body, raise_on_concurrency_limit=True)
        if resp.status_code in (200, 201, 202):
            location = resp.headers.get("Location")
            if not location:
                raise ProviderError("BRAIN POST /simulations: accepted but sent no Location header")
            return Started(
                location=location_path(location),
                retry_after_s=parse_retry_after(resp.headers.get("Retry-After")),
            )
        if resp.status_code in (400, 403):
            try:
                errors: Any = resp.json()
            except ValueError:
                errors = resp.text[:500]
            return Started(errors=errors, status=resp.status_code)
        raise ProviderError(f"BRAIN POST /simulations: unexpected HTTP {resp.status_code}")

    def progress(self, location: str) -> Progress:
        """One look at a simulation: running while ``Retry-After`` is present, else its final body."""
        resp = self.session.request("GET", location)
        what = describe_request("GET", location)
        if resp.status_code == 404:
            raise ProviderError(f"BRAIN {what}: simulation not found (404)")
        if resp.status_code != 200:
            raise ProviderError(f"BRAIN {what}: unexpected HTTP {resp.status_code}")
        retry_after = parse_retry_after(resp.headers.get("Retry-After"))
        body = _json(resp, what) if resp.content else {}
        if not isinstance(body, dict):
            raise ProviderError(f"BRAIN {what}: expected a JSON object")
        if retry_after:
            raw = body.get("progress")
            progress = float(raw) if isinstance(raw, int | float) else None
            return Progress(done=False, retry_after_s=retry_after, progress=progress, body=body)
        return Progress(done=True, body=body)

    # -- results --------------------------------------------------------------------------------

    def get_ready_json(self, path: str) -> Any:
        """GET a resource that answers 200 + ``Retry-After`` with an empty body until it is ready.

        A 200 with an empty non-JSON body and no ``Retry-After`` means a stale session (reference
        §1.9): log in again once and retry.
        """
        what = describe_request("GET", path)
        relogged = False
        for _ in range(self.session.policy.max_poll_waits):
            resp = self.session.request("GET", path)
            if resp.status_code == 404:
                raise ProviderError(f"BRAIN {what}: not found (404)")
            if resp.status_code != 200:
                raise ProviderError(f"BRAIN {what}: unexpected HTTP {resp.status_code}")
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            if retry_after:
                self.session.wait(retry_after, f"{what} not ready")
                continue
            if "json" not in resp.headers.get("Content-Type", "") and not relogged:
                relogged = True
                self.session.invalidate()
                continue
            return _json(resp, what)
        raise ProviderError(f"BRAIN {what}: still not ready after {self.session.policy.max_poll_waits} waits")

    def alpha(self, alpha_id: str) -> dict[str, Any]:
        body = self.get_ready_json(f"/alphas/{quote(alpha_id, safe='')}")
        if not isinstance(body, dict):
            raise ProviderError(f"BRAIN GET /alphas/{alpha_id}: expected a JSON object")
        return body

    def recordset(self, alpha_id: str, name: str) -> list[dict[str, Any]]:
        """``/alphas/{id}/recordsets/{name}`` as rows keyed by the schema's property names."""
        path = f"/alphas/{quote(alpha_id, safe='')}/recordsets/{quote(name, safe='')}"
        body = self.get_ready_json(path)
        if not isinstance(body, dict):
            raise ProviderError(f"BRAIN GET {path}: expected a JSON object")
        schema = body.get("schema") or {}
        props = schema.get("properties") if isinstance(schema, dict) else None
        names = [str(p.get("name")) for p in props or [] if isinstance(p, dict)]
        records = body.get("records") or []
        if not names or not isinstance(records, list):
            raise ProviderError(f"BRAIN GET {path}: no schema.properties / records")
        return [dict(zip(names, row, strict=False)) for row in records if isinstance(row, list)]

    # -- catalogue ------------------------------------------------------------------------------

    def operators(self) -> list[dict[str, Any]]:
        """``GET /operators``: a JSON array, or ``{"operators": [...]}`` (both seen, reference §1.10)."""
        resp = self.session.request("GET", "/operators")
        if resp.status_code != 200:
            raise ProviderError(f"BRAIN GET /operators: unexpected HTTP {resp.status_code}")
        body = _json(resp, "GET /operators")
        items = body.get("operators") if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise ProviderError("BRAIN GET /operators: expected a list of operators")
        return [item for item in items if isinstance(item, dict)]

    def data_fields(self, params: Mapping[str, str | int]) -> Iterator[dict[str, Any]]:
        """Every ``/data-fields`` item for ``params``, page by page (limit 50, offset ≤ 10000)."""
        offset = 0
        while True:
            query: dict[str, str | int | float] = {**params, "limit": PAGE_LIMIT, "offset": offset}
            resp = self.session.request("GET", "/data-fields", params=query)
            if resp.status_code != 200:
                raise ProviderError(
                    f"BRAIN GET /data-fields: unexpected HTTP {resp.status_code} at offset {offset}"
                )
            body = _json(resp, "GET /data-fields")
            results = body.get("results") if isinstance(body, dict) else None
            if not isinstance(results, list):
                raise ProviderError("BRAIN GET /data-fields: expected {count, results}")
            yield from (item for item in results if isinstance(item, dict))
            count = body.get("count")
            offset += len(results)
            if not results or not isinstance(count, int) or offset >= count:
                return
            if offset + PAGE_LIMIT > MAX_OFFSET:
                raise ProviderError(
                    f"BRAIN GET /data-fields: {count} fields exceed the {MAX_OFFSET} paging window; "
                    "narrow the query (e.g. by dataset)"
                )
