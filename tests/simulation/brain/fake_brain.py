"""A fake WorldQuant BRAIN API server on loopback, for tests and local end-to-end runs.

It follows the public protocol notes (reference §1): Basic login → 201 + cookie ``t`` (with an
optional Persona step), session expiry, ``POST /simulations`` single and multi (list body) with
``Retry-After`` progress, ``GET /alphas/{id}`` with a realistic ``is`` block and checks, the ``pnl``
recordset, expression errors with a location, 429s (concurrency and daily limit), injected faults,
``GET /operators`` and paginated ``GET /data-fields``.

In tests::

    with FakeBrain() as fake:           # or the ``fake_brain`` fixture in conftest.py
        fake.url                        # http://127.0.0.1:<port>

From a shell (any client can point ``BRAIN_API_URL`` at it)::

    python tests/simulation/brain/fake_brain.py --port 8765 [--persona] [--polls 2]

Stdlib only (http.server in a thread), so it starts in milliseconds and needs nothing installed.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fake_brain_records import OPERATORS, check_expression, default_fields, digest, make_alpha, make_pnl

DEMO_EMAIL = "alice@example.com"
DEMO_PASSWORD = "correct-horse-battery-staple"
CONCURRENT = "CONCURRENT_SIMULATION_LIMIT_EXCEEDED"
DAILY = "DAILY_SIMULATION_LIMIT_EXCEEDED"
REGIONS = ("USA", "GLB", "EUR", "ASI", "CHN", "AMR", "IND")
UNIVERSES = {"USA": ("TOP3000", "TOP1000", "TOP500", "TOP200", "TOPSP500")}
SETTINGS_KEYS = (
    "instrumentType",
    "region",
    "universe",
    "delay",
    "decay",
    "neutralization",
    "truncation",
    "pasteurization",
    "testPeriod",
    "unitHandling",
    "nanHandling",
    "maxTrade",
    "language",
    "visualization",
)
Response = tuple[int, dict[str, str], bytes]


START = datetime(2026, 3, 7, 15, 30, tzinfo=UTC)  # 10:30 in New York (EST)


class FakeClock:
    """Records every requested sleep and moves time forward by it; never really sleeps."""

    def __init__(self, start: datetime = START) -> None:
        self.current = start
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[float], None] | None = None

    def now(self) -> datetime:
        return self.current

    def timestamp(self) -> float:
        return self.current.timestamp()

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.current += timedelta(seconds=seconds)
        if self.on_sleep is not None:
            self.on_sleep(seconds)

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@dataclass
class FakeConfig:
    users: dict[str, str] = field(default_factory=lambda: {DEMO_EMAIL: DEMO_PASSWORD})
    persona: bool = False
    """Basic login answers 401 + ``WWW-Authenticate: persona`` until the person completes the check."""
    persona_auto_after: int | None = None
    """Confirm the Persona check by itself after this many pending POSTs (None: only via complete_persona)."""
    token_lifetime_s: float = 14400.0
    polls_to_complete: int = 2
    """GETs of a simulation that answer ``Retry-After`` before it finishes."""
    retry_after: str = "5.0"
    max_concurrent: int = 8
    daily_limit: int | None = None
    multi_allowed: bool = True
    operators_wrapped: bool = False
    alpha_pending_polls: int = 0
    recordset_pending_polls: int = 0
    reverse_children: bool = False
    """Return a multi-simulation's children in reverse order (tests the expression cross-check)."""
    cookie_secure: bool = True


@dataclass
class Fault:
    method: str
    path_prefix: str
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1


@dataclass
class Sim:
    id: str
    user: str
    type: str
    settings: dict[str, Any] | None
    regular: str | None
    parent: str | None = None
    children: list[str] = field(default_factory=list)
    status: str | None = None
    polls: int = 0
    alpha: str | None = None
    message: str | None = None
    location: dict[str, Any] | None = None


class FakeBrain:
    """The fake server's state and request handling; ``start()`` serves it on 127.0.0.1."""

    def __init__(self, config: FakeConfig | None = None, *, now: Callable[[], float] = time.time) -> None:
        self.config = config or FakeConfig()
        self.now = now
        self.operators = [dict(o) for o in OPERATORS]
        self.fields = default_fields()
        self.sessions: dict[str, tuple[str, float]] = {}
        self.sims: dict[str, Sim] = {}
        self.alphas: dict[str, dict[str, Any]] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        self.bodies: list[Any] = []
        """JSON bodies of ``POST /simulations``, in order."""
        self.logins = 0
        self.persona_posts = 0
        self.persona_verified: set[str] = set()
        self.simulations_today = 0
        self._persona_inquiries: dict[str, str] = {}
        self._persona_done: set[str] = set()
        self._pending: dict[str, int] = {}
        self._ids = 0
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control (tests) ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("fake BRAIN is not started")
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self, port: int = 0) -> FakeBrain:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-brain", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeBrain:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject(
        self,
        method: str,
        path_prefix: str,
        status: int,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` requests matching (method, path prefix) get this answer instead."""
        with self._lock:
            self.faults.append(Fault(method.upper(), path_prefix, status, body, dict(headers or {}), times))

    def expire_sessions(self) -> None:
        with self._lock:
            self.sessions = {t: (u, self.now() - 1) for t, (u, _) in self.sessions.items()}

    def complete_persona(self) -> None:
        """The person finished the biometric check in the browser."""
        with self._lock:
            self._persona_done.update(self._persona_inquiries)

    def finish_all(self) -> None:
        """Let every running simulation finish on its next poll."""
        with self._lock:
            for sim in self.sims.values():
                sim.polls = max(sim.polls, self.config.polls_to_complete)

    def in_flight(self, user: str = DEMO_EMAIL) -> int:
        with self._lock:
            return sum(
                1 for s in self.sims.values() if s.user == user and s.parent is None and s.status is None
            )

    # -- dispatch -------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Response:
        with self._lock:
            self.requests.append((method, target))
            parts = urlsplit(target)
            path, query = parts.path.rstrip("/") or "/", parse_qs(parts.query)
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and path.startswith(fault.path_prefix):
                    fault.times -= 1
                    return _json(fault.status, fault.body, fault.headers)
            try:
                body = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                return _json(400, {"detail": "JSON parse error"})
            if path == "/authentication" and method == "POST":
                return self._login(headers)
            if path == "/authentication/persona" and method == "POST":
                return self._persona(query)
            user = self._user(headers)
            if user is None:
                return _json(401, {"detail": "Incorrect authentication credentials."})
            if path == "/authentication" and method == "GET":
                _, expires = self.sessions[self._token(headers) or ""]
                return _json(
                    200,
                    {
                        "user": {"id": "U" + digest(user)[:6]},
                        "token": {"expiry": expires - self.now()},
                        "permissions": ["MULTI_SIMULATION", "CONSULTANT"],
                    },
                )
            if path == "/simulations" and method == "POST":
                return self._start(user, body)
            if (m := re.fullmatch(r"/simulations/([\w-]+)", path)) and method == "GET":
                return self._progress(m.group(1))
            if (m := re.fullmatch(r"/alphas/(\w+)", path)) and method == "GET":
                return self._alpha(m.group(1))
            if (m := re.fullmatch(r"/alphas/(\w+)/recordsets/pnl", path)) and method == "GET":
                return self._pnl(m.group(1))
            if path == "/operators" and method == "GET":
                ops = self.operators
                return _json(
                    200, {"operators": ops, "count": len(ops)} if self.config.operators_wrapped else ops
                )
            if path == "/data-fields" and method == "GET":
                return self._data_fields(query)
            return _json(404, {"detail": "Not found."})

    def _token(self, headers: dict[str, str]) -> str | None:
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "t":
                return value
        return None

    def _user(self, headers: dict[str, str]) -> str | None:
        token = self._token(headers)
        if token is None or token not in self.sessions:
            return None
        user, expires = self.sessions[token]
        return user if expires > self.now() else None

    def _new_session(self, user: str) -> Response:
        token = "tok-" + secrets.token_urlsafe(24)
        self.sessions[token] = (user, self.now() + self.config.token_lifetime_s)
        self.logins += 1
        cookie = f"t={token}; Path=/; HttpOnly; Max-Age={int(self.config.token_lifetime_s)}"
        if self.config.cookie_secure:
            cookie += "; Secure"
        body = {
            "user": {"id": "U" + digest(user)[:6]},
            "token": {"expiry": self.config.token_lifetime_s},
            "permissions": ["MULTI_SIMULATION", "CONSULTANT"],
        }
        return _json(201, body, {"Set-Cookie": cookie})

    def _login(self, headers: dict[str, str]) -> Response:
        auth = headers.get("authorization", "")
        try:
            email, _, password = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
        except ValueError:
            email, password = "", ""
        if not auth.startswith("Basic ") or self.config.users.get(email) != password:
            return _json(401, {"detail": "Invalid credentials."})
        if self.config.persona and email not in self.persona_verified:
            inquiry = "inq_" + secrets.token_hex(6)
            self._persona_inquiries[inquiry] = email
            return _json(
                401,
                {"inquiry": inquiry},
                {"WWW-Authenticate": "persona", "Location": f"/authentication/persona?inquiry={inquiry}"},
            )
        return self._new_session(email)

    def _persona(self, query: dict[str, list[str]]) -> Response:
        self.persona_posts += 1
        inquiry = (query.get("inquiry") or [""])[0]
        email = self._persona_inquiries.get(inquiry)
        if email is None:
            return _json(404, {"detail": "Not found."})
        auto = self.config.persona_auto_after
        if inquiry in self._persona_done or (auto is not None and self.persona_posts > auto):
            self.persona_verified.add(email)
            return self._new_session(email)
        return _json(401, {"detail": "Biometric verification pending."})

    # -- simulations ----------------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        self._ids += 1
        return prefix + digest(f"{prefix}{self._ids}")[:10]

    def _check_item(self, item: Any) -> dict[str, Any]:
        if not isinstance(item, dict):
            return {"settings": {"errors": ["Invalid data. Expected a dictionary, but got str."]}}
        errors: dict[str, Any] = {}
        settings = item.get("settings")
        if not isinstance(settings, dict):
            errors["settings"] = {"errors": ["This field is required."]}
        else:
            bad: dict[str, list[str]] = {}
            for key in SETTINGS_KEYS:
                if key not in settings:
                    bad[key] = ["This field is required."]
            region = settings.get("region")
            if region is not None and region not in REGIONS:
                bad["region"] = [f'"{region}" is not a valid choice.']
            universe = settings.get("universe")
            if region == "USA" and universe is not None and universe not in UNIVERSES["USA"]:
                bad["universe"] = [f'"{universe}" is not a valid choice.']
            period = settings.get("testPeriod")
            if isinstance(period, str) and not re.fullmatch(r"P\d+Y(\d+M)?(\d+D)?", period):
                bad["testPeriod"] = [f'"{period}" is not a valid period.']
            if bad:
                errors["settings"] = bad
        if item.get("type", "REGULAR") == "REGULAR" and not isinstance(item.get("regular"), str):
            errors["regular"] = ["This field is required."]
        return errors

    def _start(self, user: str, body: Any) -> Response:
        self.bodies.append(body)
        items = body if isinstance(body, list) else [body]
        if isinstance(body, list):
            if not self.config.multi_allowed:
                return _json(403, {"detail": "You do not have permission to perform this action."})
            if not 2 <= len(body) <= 10:
                return _json(400, {"detail": "A multi-simulation takes 2 to 10 simulations."})
        errors = [self._check_item(item) for item in items]
        if any(errors):
            return _json(400, errors if isinstance(body, list) else errors[0])
        if (
            isinstance(body, list)
            and len({(i["settings"]["region"], i["settings"]["delay"]) for i in items}) > 1
        ):
            return _json(
                400, {"detail": "All simulations in a multi-simulation must share region and delay."}
            )
        if self.in_flight(user) >= self.config.max_concurrent:
            return _json(429, {"detail": CONCURRENT})
        limit = self.config.daily_limit
        if limit is not None and self.simulations_today + len(items) > limit:
            return _json(429, {"detail": DAILY})
        self.simulations_today += len(items)
        first = items[0]
        sim = Sim(
            self._id("S"),
            user,
            first.get("type", "REGULAR"),
            first["settings"],
            None if isinstance(body, list) else first["regular"],
        )
        self.sims[sim.id] = sim
        if isinstance(body, list):
            for item in items:
                child = Sim(
                    self._id("C"),
                    user,
                    item.get("type", "REGULAR"),
                    item["settings"],
                    item["regular"],
                    parent=sim.id,
                )
                self.sims[child.id] = child
                sim.children.append(child.id)
        return (
            201,
            {"Location": f"{self.url}/simulations/{sim.id}", "Retry-After": self.config.retry_after},
            b"",
        )

    def _progress(self, sim_id: str) -> Response:
        sim = self.sims.get(sim_id)
        if sim is None:
            return _json(404, {"detail": "Not found."})
        if sim.parent is not None:
            if self.sims[sim.parent].status is None:
                return _json(200, {"progress": 0.5}, {"Retry-After": self.config.retry_after})
            return _json(200, self._sim_body(sim))
        if sim.status is None:
            sim.polls += 1
            if sim.polls <= self.config.polls_to_complete:
                progress = round(sim.polls / (self.config.polls_to_complete + 1), 3)
                return _json(200, {"progress": progress}, {"Retry-After": self.config.retry_after})
            self._finish(sim)
        return _json(200, self._sim_body(sim))

    def _finish(self, sim: Sim) -> None:
        if not sim.children:
            self._evaluate(sim)
            return
        children = [self.sims[c] for c in sim.children]
        for child in children:
            self._evaluate(child)
        if any(c.status == "ERROR" for c in children):
            for child in children:
                if child.status != "ERROR":
                    child.status, child.alpha = "CANCELLED", None
            sim.status = "ERROR"
        else:
            sim.status = "COMPLETE"
        if self.config.reverse_children:
            sim.children.reverse()

    def _evaluate(self, sim: Sim) -> None:
        assert sim.regular is not None and sim.settings is not None
        problem = check_expression(
            sim.regular, {o["name"] for o in self.operators}, {f["id"] for f in self.fields}
        )
        if problem is not None:
            sim.status, (sim.message, sim.location) = "ERROR", problem
            return
        alpha_id = digest(sim.regular + json.dumps(sim.settings, sort_keys=True) + sim.id)[:8]
        self.alphas[alpha_id] = make_alpha(alpha_id, sim.regular, sim.settings)
        sim.alpha = alpha_id
        units = any(c["name"] == "UNITS" for c in self.alphas[alpha_id]["is"]["checks"])
        sim.status = "WARNING" if units else "COMPLETE"

    def _sim_body(self, sim: Sim) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": sim.id,
            "type": sim.type,
            "settings": sim.settings,
            "status": sim.status,
        }
        if sim.children:
            body["children"] = list(sim.children)
        else:
            body["regular"] = sim.regular
        if sim.parent:
            body["parent"] = sim.parent
        if sim.alpha:
            body["alpha"] = sim.alpha
        if sim.message:
            body["message"] = sim.message
            body["location"] = sim.location
        return body

    def _pending_first(self, key: str, polls: int) -> bool:
        seen = self._pending.get(key, 0)
        if seen < polls:
            self._pending[key] = seen + 1
            return True
        return False

    def _alpha(self, alpha_id: str) -> Response:
        alpha = self.alphas.get(alpha_id)
        if alpha is None:
            return _json(404, {"detail": "Not found."})
        if self._pending_first("alpha:" + alpha_id, self.config.alpha_pending_polls):
            return 200, {"Retry-After": "1.0", "Content-Type": "application/json"}, b""
        return _json(200, alpha)

    def _pnl(self, alpha_id: str) -> Response:
        alpha = self.alphas.get(alpha_id)
        if alpha is None:
            return _json(404, {"detail": "Not found."})
        if self._pending_first("pnl:" + alpha_id, self.config.recordset_pending_polls):
            return 200, {"Retry-After": "2.0", "Content-Type": "application/json"}, b""
        return _json(200, make_pnl(alpha))

    def _data_fields(self, query: dict[str, list[str]]) -> Response:
        q = {k: v[0] for k, v in query.items()}
        missing = [k for k in ("instrumentType", "region", "delay", "universe") if k not in q]
        if missing:
            return _json(400, {k: ["This field is required."] for k in missing})
        limit, offset = int(q.get("limit", "50")), int(q.get("offset", "0"))
        if not 1 <= limit <= 50 or offset + limit > 10000:
            return _json(400, {"limit": ["Ensure this value is less than or equal to 50."]})
        rows = [
            f
            for f in self.fields
            if f["region"] == q["region"]
            and str(f["delay"]) == q["delay"]
            and ("dataset.id" not in q or f["dataset"]["id"] == q["dataset.id"])
        ]
        headers = {
            "x-ratelimit-limit-second": "10",
            "x-ratelimit-remaining-second": "9",
            "x-ratelimit-limit-minute": "600",
            "x-ratelimit-remaining-minute": "500",
        }
        return _json(200, {"count": len(rows), "results": rows[offset : offset + limit]}, headers)


# -- HTTP plumbing ------------------------------------------------------------------------------


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    raw = b"" if body is None else json.dumps(body).encode()
    out = {"Content-Type": "application/json"} if body is not None else {}
    out.update(headers or {})
    return status, out, raw


def _handler_for(fake: FakeBrain) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def _dispatch(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, out, body = fake.handle(self.command, self.path, headers, raw)
            self.send_response(status)
            for key, value in out.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = do_DELETE = do_OPTIONS = _dispatch

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler


@contextmanager
def signed_in(monkeypatch: Any, session_dir: Path) -> Iterator[FakeBrain]:
    """A quick fake BRAIN (retries after 0.02 s, one poll to complete) with the demo credentials in
    the environment, as a user sets them, and the session file under ``session_dir``;
    ``monkeypatch`` is pytest's (it puts the environment back)."""
    monkeypatch.setenv("BRAIN_EMAIL", DEMO_EMAIL)
    monkeypatch.setenv("BRAIN_PASSWORD", DEMO_PASSWORD)
    monkeypatch.setenv("BRAIN_SESSION_FILE", str(session_dir / "session.json"))
    monkeypatch.delenv("BRAIN_API_URL", raising=False)
    with FakeBrain(FakeConfig(retry_after="0.02", polls_to_complete=1)) as fake:
        yield fake


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake WorldQuant BRAIN API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--persona", action="store_true", help="ask for the Persona biometric check")
    parser.add_argument(
        "--persona-auto-after", type=int, default=2, help="pending persona POSTs before it passes"
    )
    parser.add_argument("--polls", type=int, default=2, help="progress polls before a simulation finishes")
    parser.add_argument("--retry-after", default="1.0", help="Retry-After seconds on progress answers")
    parser.add_argument("--max-concurrent", type=int, default=8)
    parser.add_argument("--daily-limit", type=int, default=None)
    args = parser.parse_args(argv)
    config = FakeConfig(
        persona=args.persona,
        persona_auto_after=args.persona_auto_after,
        polls_to_complete=args.polls,
        retry_after=args.retry_after,
        max_concurrent=args.max_concurrent,
        daily_limit=args.daily_limit,
    )
    fake = FakeBrain(config).start(args.port)
    print(f"fake BRAIN listening on {fake.url} (user {DEMO_EMAIL}, password {DEMO_PASSWORD})", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
