"""Token estimation: a rough content-aware estimator, exact offline BPE counts, per-model calibration.

- :func:`rough_tokens` needs no tokenizer. It splits text the way BPE pre-tokenisers do (words,
  digit groups, punctuation runs, newlines) and prices each piece by its shape, so prose, code-like
  expressions and JSON are each close (chars/4 is off by +28 % on prose and −27 % on JSON).
- :func:`exact_tokens` counts with the bundled ``o200k_base`` / ``cl100k_base`` encodings
  (``brain_agent.llm.tokenizer``); exact for OpenAI models.
- :class:`Calibration` learns ``provider-reported prompt tokens / our count`` per (model, method)
  from settled calls, so models without a public tokenizer (Claude, Llama, Qwen) get corrected
  estimates. Its state is persisted by the ledger store.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from brain_agent.llm.tokenizer import count_tokens, encoding_for_model

Method = Literal["exact", "rough"]
_MEMO_SIZE = 64

_PIECE = re.compile(
    r"(?P<word>_?[A-Za-z]+)|(?P<num>[0-9]+)|(?P<nl>\s*\n)|(?P<ws>[ \t]+)|(?P<punct>[^\sA-Za-z0-9]+)"
)
# Weights fitted by least squares against o200k counts on prose, Fast Expressions and JSON packs
# (benchmarks/bench_budget.py re-measures the error), then rounded.
_W_WORD = 1.0  # a word (with a leading underscore, as in ``ts_delta``) is usually one token ...
_W_LONG = 0.2  # ... plus a little for every letter past the eighth
_LONG = 8
_W_NUM = 1.4  # a group of up to three digits (plus the space or dot that tends to split)
_W_NEWLINE = 1.2
_W_WS_RUN = 0.1  # an indentation run
_W_PUNCT = 0.7  # a run of punctuation ...
_W_PUNCT_EXTRA = 0.35  # ... plus this per further character


def rough_tokens(text: str) -> int:
    """A tokenizer-free estimate, content-aware (see the module docstring)."""
    if not text:
        return 0
    total = 0.0
    for match in _PIECE.finditer(text):
        kind = match.lastgroup
        n = match.end() - match.start()
        if kind == "word":
            total += _W_WORD + _W_LONG * max(0, n - _LONG)
        elif kind == "num":
            total += _W_NUM * -(-n // 3)
        elif kind == "nl":
            total += _W_NEWLINE
        elif kind == "ws":
            total += _W_WS_RUN if n > 1 else 0.0
        else:
            total += _W_PUNCT + _W_PUNCT_EXTRA * (n - 1)
    return max(1, round(total))


def exact_tokens(text: str, model: str) -> tuple[int, bool]:
    """``(count, exact)``: the BPE count for the model's encoding; ``exact`` is False when the model
    has no public tokenizer and ``o200k_base`` stands in."""
    encoding, exact = encoding_for_model(model)
    return count_tokens(text, encoding), exact


@dataclass(frozen=True)
class CalibrationState:
    """Learned ``actual / counted`` ratio for one (model, method); a running mean in log space."""

    model: str
    method: str
    samples: int = 0
    mean_log_ratio: float = 0.0

    @property
    def factor(self) -> float:
        return math.exp(self.mean_log_ratio) if self.samples else 1.0

    def update(self, counted: int, actual: int, *, max_samples: int = 200) -> CalibrationState:
        """Fold one observation in; the window is capped so the factor follows drift."""
        if counted <= 0 or actual <= 0:
            return self
        n = min(self.samples, max_samples - 1) + 1
        log_ratio = math.log(actual / counted)
        mean = self.mean_log_ratio + (log_ratio - self.mean_log_ratio) / n
        return CalibrationState(self.model, self.method, self.samples + 1, mean)


@dataclass(frozen=True)
class Estimate:
    tokens: int
    """The number the gate uses (calibrated; margin applied when not exact)."""
    raw: int
    """The uncorrected count."""
    method: str
    exact: bool
    factor: float


class TokenEstimator:
    """Estimate prompt tokens for a model. ``calibration`` maps (model, method) → state; the batch
    runner loads it from the store and saves updates after settling."""

    def __init__(
        self,
        method: Method = "exact",
        calibration: dict[tuple[str, str], CalibrationState] | None = None,
        safety_margin: float = 0.05,
    ) -> None:
        self.method: Method = method
        self.calibration = dict(calibration or {})
        self.safety_margin = safety_margin
        self._memo: dict[tuple[str, str, str], tuple[int, bool]] = {}

    def factor(self, model: str, method: str) -> float:
        state = self.calibration.get((model, method))
        return state.factor if state is not None else 1.0

    def _raw(self, text: str, model: str) -> tuple[int, bool]:
        """The uncorrected count, memoised: the gate and the provider wrapper count the same prompt."""
        key = (self.method, model, text)
        hit = self._memo.get(key)
        if hit is None:
            hit = exact_tokens(text, model) if self.method == "exact" else (rough_tokens(text), False)
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.pop(next(iter(self._memo)))
            self._memo[key] = hit
        return hit

    def estimate(self, text: str, model: str) -> Estimate:
        raw, exact = self._raw(text, model)
        if exact:
            return Estimate(raw, raw, "exact", True, 1.0)
        factor = self.factor(model, self.method)
        corrected = raw * factor * (1.0 + self.safety_margin)
        return Estimate(math.ceil(corrected), raw, self.method, False, factor)

    def observe(self, text: str, model: str, actual_prompt_tokens: int) -> CalibrationState | None:
        """Learn from a provider-reported prompt count; returns the new state (None when the model's
        count is exact and needs no calibration)."""
        raw, exact = self._raw(text, model)
        if exact:
            return None
        key = (model, self.method)
        state = self.calibration.get(key, CalibrationState(model, self.method))
        new = state.update(raw, actual_prompt_tokens)
        self.calibration[key] = new
        return new
