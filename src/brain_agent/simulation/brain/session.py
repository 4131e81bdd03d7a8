"""An authenticated BRAIN session over httpx: login, Persona, cookie reuse, retries and limits.

``BrainSession.request`` is the one door to the BRAIN API. It logs in when needed (Basic auth, or
the Persona "interactive login" with a person in the loop), renews the session before it expires,
logs in again once on a 401, retries 5xx and network errors with back-off, honours ``Retry-After``
and the ``x-ratelimit-*`` headers, and pauses until midnight New York time on the daily simulation
limit. All waiting goes through the ``Clock`` seam; all I/O through the httpx transport seam.

Credentials and cookies never reach a log line, an exception message or a repr.
"""

from __future__ import annotations

import logging
import os
import random
import re
import sys
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import httpx

from brain_agent.errors import AuthError, InputError, ProviderError, shorten
from brain_agent.simulation.brain.clock import (
    NEW_YORK,
    Clock,
    SystemClock,
    next_new_york_midnight,
    seconds_until_new_york_midnight,
)
from brain_agent.simulation.brain.credentials import (
    ENV_EMAIL,
    ENV_PASSWORD,
    Credentials,
    SavedSession,
    SessionStore,
    load_credentials,
)
from brain_agent.simulation.brain.throttle import RetryPolicy, backoff_s, parse_retry_after

log = logging.getLogger("brain_agent.simulation.brain")

ENV_API_URL = "BRAIN_API_URL"
DEFAULT_BASE_URL = "https://api.worldquantbrain.com"
SESSION_COOKIE = "t"
DEFAULT_SESSION_S = 14400.0
DAILY_LIMIT = "DAILY_SIMULATION_LIMIT_EXCEEDED"
CONCURRENT_LIMIT = "CONCURRENT_SIMULATION_LIMIT_EXCEEDED"

Notify = Callable[[str], None]
WaitForUser = Callable[[], None]


_SECRET_HEADER = re.compile(
    r"(b?['\"](?:set-cookie|cookie|authorization)['\"],\s*b?['\"])[^'\"]*", re.IGNORECASE
)
_HTTPCORE_LOGGERS = ("httpcore.http11", "httpcore.http2", "httpcore.connection", "httpcore.proxy")


class RedactHeaders(logging.Filter):
    """httpcore's DEBUG trace prints raw response headers; blank out cookie and auth values."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _SECRET_HEADER.sub(r"\1<redacted>", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def install_log_redaction() -> None:
    """Attach ``RedactHeaders`` to httpcore's loggers (once)."""
    for name in _HTTPCORE_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactHeaders) for f in logger.filters):
            logger.addFilter(RedactHeaders())


def default_base_url(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return (env.get(ENV_API_URL) or DEFAULT_BASE_URL).rstrip("/")


def check_base_url(url: str) -> str:
    """``url`` without a trailing slash, or exit 2 when it is not an http(s) URL or holds credentials.

    A password in the URL (``http://user:PASSWORD@host``) is refused before the session exists, so
    it never reaches a log line, an event, a results file or the session file; the message shows the
    URL with the user part replaced by ``***``."""
    text = url.strip().rstrip("/")
    try:
        parts = urlsplit(text)
        has_credentials = parts.username is not None or parts.password is not None or "@" in parts.netloc
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError:
        raise InputError(
            f"BRAIN API URL {shorten(redact_url(text))} is not a valid URL", key="brain_url"
        ) from None
    if has_credentials:
        raise InputError(
            f"BRAIN API URL {shorten(redact_url(text))} holds credentials (user:password@host): refused; "
            f"give them in ${ENV_EMAIL}/${ENV_PASSWORD} or the 0600 credentials file instead",
            key="brain_url",
        )
    if parts.scheme not in ("http", "https") or not host:
        raise InputError(
            f"BRAIN API URL {shorten(redact_url(text))} must be an http(s) URL with a host", key="brain_url"
        )
    return text


def redact_url(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``***@`` (for messages only)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return re.sub(r"^[^/]*@", "***@", url)
    authority, slash, tail = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rpartition("@")[2]
    return f"{scheme}{sep}{authority}{slash}{tail}"


def stderr_notify(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def no_wait() -> None:
    return None


class DailyLimitError(ProviderError):
    """BRAIN's daily simulation quota is used up; it resets at midnight New York time."""

    code = "brain_daily_limit"

    def __init__(self, message: str, *, resume_at: datetime) -> None:
        super().__init__(message, resume_at=resume_at.isoformat())
        self.resume_at = resume_at


class ConcurrencyLimitError(ProviderError):
    """Too many simulations in flight (429 CONCURRENT_SIMULATION_LIMIT_EXCEEDED)."""

    code = "brain_concurrency_limit"

    def __init__(self, message: str, *, retry_after_s: float | None) -> None:
        super().__init__(message, retry_after_s=retry_after_s)
        self.retry_after_s = retry_after_s


def response_detail(resp: httpx.Response) -> str:
    """The ``detail`` string of an error body (``{"detail": "..."}``), else ''."""
    try:
        body = resp.json()
    except ValueError:
        return ""
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return str(body["detail"])
    return ""


def describe_request(method: str, url: str) -> str:
    """Method and path for messages: no query string, no host."""
    return f"{method} {urlsplit(url).path or url}"


class BrainSession:
    """One logged-in BRAIN API session (cookie ``t``), shared by the simulation and catalog calls."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        credentials: Callable[[], Credentials] = load_credentials,
        store: SessionStore | None = None,
        clock: Clock | None = None,
        policy: RetryPolicy | None = None,
        interactive_login: bool = False,
        notify: Notify = stderr_notify,
        wait_for_user: WaitForUser = no_wait,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = 60.0,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = check_base_url(base_url or default_base_url())
        self.clock: Clock = clock or SystemClock()
        self.policy = policy or RetryPolicy()
        self.interactive_login = interactive_login
        self.notify = notify
        self.wait_for_user = wait_for_user
        self.logins = 0
        """How many times this session logged in (first login and renewals)."""
        self._credentials = credentials
        self._store = store
        self._rng = rng or random.Random()
        self._cookies: dict[str, str] = {}
        self._expires_at: datetime | None = None
        self._restore_tried = False
        self._host = urlsplit(self.base_url).netloc
        install_log_redaction()
        self._http = httpx.Client(
            base_url=self.base_url, transport=transport, timeout=timeout_s, follow_redirects=False
        )

    def __repr__(self) -> str:
        state = "logged in" if self._cookies else "not logged in"
        return f"BrainSession({self.base_url!r}, {state})"

    def __enter__(self) -> BrainSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def expires_at(self) -> datetime | None:
        return self._expires_at

    def url(self, path_or_url: str) -> str:
        return urljoin(self.base_url + "/", path_or_url)

    # -- waiting --------------------------------------------------------------------------------

    def wait(self, seconds: float, why: str) -> None:
        seconds = max(0.0, seconds)
        log.info("BRAIN: waiting %.1f s (%s)", seconds, why)
        self.clock.sleep(seconds)

    def backoff(self, attempt: int) -> float:
        return backoff_s(attempt, self.policy, self._rng)

    # -- raw sending ----------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: Mapping[str, str | int | float] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> httpx.Response:
        target = self.url(url)
        headers: dict[str, str] = {"Accept": "application/json"}
        if self._cookies and urlsplit(target).netloc == self._host:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self._cookies.items())
        resp = self._http.request(method, target, json=json, params=params, headers=headers, auth=auth)
        resp.read()
        for name, value in resp.cookies.items():
            self._cookies[name] = value
        self._http.cookies.clear()
        log.debug("BRAIN: %s -> %d", describe_request(method, target), resp.status_code)
        return resp

    # -- login ----------------------------------------------------------------------------------

    def ensure(self) -> None:
        """Make sure there is a session with more than the renewal margin left."""
        if not self._cookies and not self._restore_tried:
            self._restore_tried = True
            self._restore()
        if not self._cookies:
            self.login()
            return
        if self._expires_at is not None:
            left = (self._expires_at - self.clock.now()).total_seconds()
            if left < self.policy.renew_margin_s:
                log.info("BRAIN: session has %.0f s left; logging in again", left)
                self.login()

    def _restore(self) -> None:
        saved = self._store.load(self.base_url) if self._store else None
        if saved is None:
            return
        self._cookies = dict(saved.cookies)
        self._expires_at = saved.expires_at
        try:
            resp = self._send("GET", "/authentication")
        except httpx.TransportError:
            return  # keep the saved session; the request loop deals with the network
        left = _token_expiry(resp) if resp.status_code == 200 else None
        if left is None:
            log.info("BRAIN: saved session is no longer valid (%d)", resp.status_code)
            self._cookies.clear()
            self._expires_at = None
            return
        self._expires_at = self.clock.now() + timedelta(seconds=left)
        log.info("BRAIN: reusing the saved session (%.0f s left)", left)

    def invalidate(self) -> None:
        self._cookies.clear()
        self._expires_at = None

    def login(self) -> None:
        """Log in with Basic auth (and the Persona check when BRAIN asks for one)."""
        creds = self._credentials()
        self.invalidate()
        failures = 0
        while True:
            try:
                resp = self._send("POST", "/authentication", auth=(creds.email, creds.password))
            except httpx.TransportError as exc:
                failures += 1
                if failures > self.policy.max_retries:
                    raise ProviderError(
                        f"BRAIN login: cannot reach {self.base_url} ({type(exc).__name__}) "
                        f"after {failures} attempts"
                    ) from None
                self.wait(self.backoff(failures), "network error during login")
                continue
            status = resp.status_code
            if status in (200, 201):
                self._established(resp)
                return
            if status == 401:
                if "persona" in resp.headers.get("WWW-Authenticate", "").lower():
                    self._persona(resp)
                    return
                raise AuthError(f"BRAIN refused the credentials from {creds.source} (401)")
            if status == 429 or status >= 500:
                failures += 1
                if failures > self.policy.max_retries:
                    if status == 429:
                        raise AuthError(
                            f"BRAIN login rate-limited (429) after {failures} attempts; try later"
                        )
                    raise ProviderError(f"BRAIN login: server error {status} after {failures} attempts")
                ra = parse_retry_after(resp.headers.get("Retry-After"))
                self.wait(ra if ra is not None else self.backoff(failures), f"login answered {status}")
                continue
            raise AuthError(f"BRAIN login failed with HTTP {status}")

    def _established(self, resp: httpx.Response) -> None:
        if SESSION_COOKIE not in self._cookies:
            raise AuthError(f"BRAIN accepted the login but set no session cookie '{SESSION_COOKIE}'")
        left = _token_expiry(resp)
        left = DEFAULT_SESSION_S if left is None else left
        self._expires_at = self.clock.now() + timedelta(seconds=left)
        self.logins += 1
        if self._store is not None:
            self._store.save(SavedSession(self.base_url, dict(self._cookies), self._expires_at))
        log.info("BRAIN: logged in (session valid for %.0f s)", left)

    def _persona(self, challenge: httpx.Response) -> None:
        location = challenge.headers.get("Location")
        if not location:
            try:
                inquiry = challenge.json().get("inquiry")
            except (ValueError, AttributeError):
                inquiry = None
            if not isinstance(inquiry, str) or not inquiry:
                raise AuthError("BRAIN asked for a biometric check but sent no link (no Location header)")
            location = f"/authentication/persona?inquiry={inquiry}"
        url = urljoin(str(challenge.url), location)
        if not self.interactive_login:
            raise AuthError(
                "BRAIN asks for a biometric (Persona) check for this account: run the command again with "
                "--interactive-login and follow the link it prints"
            )
        self.notify(
            "BRAIN asks for a biometric check. Open this link in a browser, complete the check, "
            f"then come back here:\n  {url}"
        )
        self.wait_for_user()
        for attempt in range(1, self.policy.persona_attempts + 1):
            try:
                resp = self._send("POST", url)
            except httpx.TransportError:
                self.wait(self.policy.persona_interval_s, "network error confirming the biometric check")
                continue
            if resp.status_code in (200, 201):
                self._established(resp)
                self.notify("BRAIN biometric check accepted; logged in.")
                return
            log.info("BRAIN: biometric check not confirmed yet (try %d, HTTP %d)", attempt, resp.status_code)
            ra = parse_retry_after(resp.headers.get("Retry-After"))
            delay = ra if ra is not None else self.policy.persona_interval_s
            self.wait(delay, "waiting for the biometric check")
        raise AuthError(
            f"BRAIN biometric check was not confirmed after {self.policy.persona_attempts} attempts; "
            "run the command again for a new link"
        )

    # -- requests -------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: Mapping[str, str | int | float] | None = None,
        raise_on_concurrency_limit: bool = False,
    ) -> httpx.Response:
        """Send one request with login, renewal, retries and limits handled.

        Returns any response that is not 401, 429 or 5xx (those are handled here). With
        ``raise_on_concurrency_limit`` a 429 CONCURRENT_SIMULATION_LIMIT_EXCEEDED raises
        ``ConcurrencyLimitError`` so the caller can shrink its window.
        """
        what = describe_request(method, self.url(url))
        relogged = False
        failures = 0
        daily_waits = 0
        while True:
            self.ensure()
            try:
                resp = self._send(method, url, json=json, params=params)
            except httpx.TransportError as exc:
                failures += 1
                if failures > self.policy.max_retries:
                    raise ProviderError(
                        f"BRAIN {what}: network error ({type(exc).__name__}) after {failures} attempts"
                    ) from None
                self.wait(self.backoff(failures), f"network error on {what}")
                continue
            status = resp.status_code
            if status == 401:
                if relogged:
                    raise AuthError(f"BRAIN {what}: session refused (401) even after logging in again")
                relogged = True
                log.info("BRAIN: %s answered 401; logging in again", what)
                self.invalidate()
                continue
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            if status == 429:
                detail = response_detail(resp)
                if detail == DAILY_LIMIT:
                    daily_waits += 1
                    self._daily_limit(daily_waits)
                    continue
                if detail == CONCURRENT_LIMIT and raise_on_concurrency_limit:
                    raise ConcurrencyLimitError(
                        f"BRAIN {what}: too many simulations in flight (429 {CONCURRENT_LIMIT})",
                        retry_after_s=retry_after,
                    )
                failures += 1
                if failures > self.policy.max_retries:
                    raise ProviderError(
                        f"BRAIN {what}: still rate-limited (429 {detail or 'no detail'}) "
                        f"after {failures} attempts"
                    )
                delay = retry_after if retry_after is not None else self.backoff(failures)
                self.wait(delay, f"rate-limited on {what}")
                continue
            if status >= 500:
                failures += 1
                if failures > self.policy.max_retries:
                    raise ProviderError(f"BRAIN {what}: server error {status} after {failures} attempts")
                delay = retry_after if retry_after is not None else self.backoff(failures)
                self.wait(delay, f"server error {status} on {what}")
                continue
            self._respect_rate_headers(resp)
            return resp

    def _daily_limit(self, waits: int) -> None:
        now = self.clock.now()
        resume = next_new_york_midnight(now)
        seconds = seconds_until_new_york_midnight(now)
        local = resume.astimezone(ZoneInfo(NEW_YORK)).strftime("%Y-%m-%d %H:%M %Z")
        hours, rest = divmod(int(seconds), 3600)
        span = f"{hours}h{rest // 60:02d}m"
        if self.policy.daily_limit == "stop" or waits > 1:
            raise DailyLimitError(
                f"BRAIN daily simulation limit reached (429 {DAILY_LIMIT}); it resets at midnight New York "
                f"time ({local}), in {span}",
                resume_at=resume,
            )
        self.notify(
            "BRAIN daily simulation limit reached; pausing until midnight New York time "
            f"({local}), {span} from now"
        )
        self.wait(seconds + self.policy.daily_margin_s, "daily simulation limit")

    def _respect_rate_headers(self, resp: httpx.Response) -> None:
        second = _int_header(resp, "x-ratelimit-remaining-second")
        minute = _int_header(resp, "x-ratelimit-remaining-minute")
        if minute is not None and minute <= 1:
            self.wait(60.0, "per-minute request budget used up")
        elif second is not None and second < 1:
            self.wait(1.0, "per-second request budget used up")


def _int_header(resp: httpx.Response, name: str) -> int | None:
    value = resp.headers.get(name)
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


def _token_expiry(resp: httpx.Response) -> float | None:
    try:
        body = resp.json()
    except ValueError:
        return None
    token = body.get("token") if isinstance(body, dict) else None
    expiry = token.get("expiry") if isinstance(token, dict) else None
    return float(expiry) if isinstance(expiry, int | float) else None
