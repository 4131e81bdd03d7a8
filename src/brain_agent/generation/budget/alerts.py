"""Budget alerts: ``budget.threshold_crossed`` when a cumulative scope passes a configured share.

The cumulative scopes are the period ones (``day``, ``week``, ``money_day``, ``money_week``): they
carry over between batches, so they are the ones a researcher wants to hear about before they block.
A threshold (``alert_thresholds`` in ``llm_budget.json``, e.g. ``[0.5, 0.8, 0.95]``) is crossed when
the scope's *spent* amount (settled calls; holds of calls in flight are not spend yet) reaches that
share of its cap. Each (window, threshold) fires once across every process sharing the store
(:class:`~brain_agent.storage.alert_marks.AlertMarks`). When ``alert_webhook_url`` is set, the payload
is POSTed there as JSON; a failed POST is a warning, never a stop, and the URL is only ever shown
without its credentials and query (:func:`redact_url`).
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from brain_agent.generation.budget.config import redact_url
from brain_agent.generation.budget.gate import ScopeStatus
from brain_agent.generation.budget.scope import PERIOD_KINDS
from brain_agent.storage import Store
from brain_agent.storage.alert_marks import AlertMarks

WEBHOOK_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Crossing:
    scope: str
    scope_key: str
    unit: str
    threshold: float
    spent: int | Decimal
    limit: int | Decimal
    window_end: str | None

    @property
    def share(self) -> float:
        return float(Decimal(str(self.spent)) / Decimal(str(self.limit))) if self.limit else 1.0

    def payload(self) -> dict[str, Any]:
        def amount(v: int | Decimal) -> int | str:
            return str(v) if isinstance(v, Decimal) else v

        return {
            "scope": self.scope,
            "scope_key": self.scope_key,
            "unit": self.unit,
            "threshold": self.threshold,
            "share": round(self.share, 6),
            "spent": amount(self.spent),
            "limit": amount(self.limit),
            "window_end": self.window_end,
        }

    def describe(self) -> str:
        if self.unit == "usd":
            used = f"${Decimal(str(self.spent)):.4f} of ${Decimal(str(self.limit)):.2f}"
        else:
            used = f"{int(self.spent):,} of {int(self.limit):,} tokens"
        return f"{self.scope_key}: {self.threshold:.0%} crossed ({used}, {self.share:.1%})"


def crossings(statuses: Iterable[ScopeStatus], thresholds: Iterable[float]) -> list[Crossing]:
    """Every (cumulative scope, threshold) whose share is reached now. Pure; no memory of the past."""
    levels = sorted(thresholds)
    out: list[Crossing] = []
    for s in statuses:
        if s.scope not in PERIOD_KINDS or s.limit is None or s.limit <= 0:
            continue
        share = Decimal(str(s.spent)) / Decimal(str(s.limit))
        for t in levels:
            if share >= Decimal(str(t)):
                out.append(Crossing(s.scope, s.scope_key, s.unit, t, s.spent, s.limit, s.window_end))
    return out


def post_webhook(url: str, payload: dict[str, Any], timeout: float = WEBHOOK_TIMEOUT_S) -> str | None:
    """POST ``payload`` as JSON; ``None`` on a 2xx answer, else a message (with the redacted URL).

    Credentials in the URL (``https://user:secret@host/…``) are sent as HTTP Basic authorization,
    not as part of the address; the query string is sent as given."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    headers = {"Content-Type": "application/json", "User-Agent": "brain-agent budget alert"}
    if parts.username is not None:
        user_pass = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(user_pass.encode()).decode()
    target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    body = json.dumps({"event": "budget.threshold_crossed", **payload}).encode()
    request = urllib.request.Request(target, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return f"budget alert webhook {redact_url(url)} answered HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"budget alert webhook {redact_url(url)} failed: {type(reason).__name__}"
    if not 200 <= status < 300:
        return f"budget alert webhook {redact_url(url)} answered HTTP {status}"
    return None


class Alerter:
    """Checks the cumulative scopes after spend and fires each new crossing once.

    ``emit`` writes the event (the run's emitter); ``warn`` reports a failed webhook POST."""

    def __init__(
        self,
        store: Store,
        thresholds: Iterable[float],
        *,
        webhook_url: str | None = None,
        run_id: str | None = None,
        emit: Callable[[dict[str, Any]], object] | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.marks = AlertMarks(store)
        self.thresholds = tuple(thresholds)
        self.webhook_url = webhook_url
        self.run_id = run_id
        self.emit = emit
        self.warn = warn
        self.fired: list[Crossing] = []

    def check(self, statuses: Iterable[ScopeStatus], now: float) -> list[Crossing]:
        """Fire the crossings not fired before in their window; returns them."""
        if not self.thresholds:
            return []
        new = []
        for c in crossings(statuses, self.thresholds):
            if not self.marks.claim(
                c.scope_key, repr(c.threshold), run_id=self.run_id, share=f"{c.share:.6f}", now=now
            ):
                continue
            new.append(c)
            payload = c.payload()
            if self.emit is not None:
                self.emit(payload)
            if self.webhook_url:
                problem = post_webhook(self.webhook_url, payload)
                if problem is not None and self.warn is not None:
                    self.warn(problem)
        self.fired.extend(new)
        return new
