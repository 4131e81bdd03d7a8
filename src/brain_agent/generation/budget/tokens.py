"""Token estimation: a rough content-aware estimator, exact offline BPE counts, per-model calibration.

- :func:`rough_tokens` needs no tokenizer. It cuts text the way the ``o200k_base`` pre-tokeniser
  does (a word with its leading space or punctuation, digit groups, punctuation runs, newline and
  space runs) and prices each piece by its *shape*: kind, prefix, letter case and length. The
  prices (``rough_table.py``) are mean token counts per shape, fitted by
  ``benchmarks/bench_budget.py --fit`` on one half of its corpora and measured on the other half.
- :func:`exact_tokens` counts with the bundled ``o200k_base`` / ``cl100k_base`` encodings
  (``brain_agent.llm.tokenizer``); exact for OpenAI models.
- :class:`Calibration` learns ``provider-reported prompt tokens / our count`` per (model, method)
  from settled calls, so models without a public tokenizer (Claude, Llama, Qwen) get corrected
  estimates. Its state is persisted by the ledger store.

Both counts are additive over :func:`~brain_agent.llm.tokenizer.independent_chunks` (lines, in
practice), so :class:`TokenEstimator` memoises them per chunk: the ladder's re-renders of one
prompt, and the pack lines shared by successive ideas, are counted once.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Literal

from brain_agent.generation.budget.rough_table import FALLBACK_SLOPE, SLOPES, WEIGHTS
from brain_agent.llm.tokenizer import TokenCounter, count_tokens, encoding_for_model, independent_chunks

Method = Literal["exact", "rough"]
_MEMO_SIZE = 64  # whole prompts (the gate and the provider wrapper estimate the same text)
_CHUNK_MEMO_SIZE = 4096  # lines
_MAX_MEMO_CHUNK = 2048  # longer chunks are counted, not memoised

# The o200k_base pre-tokeniser, approximated with Python ``re`` (no \p{Lu}: ASCII capitals stand
# for upper case). Order matters, as in tiktoken: the first alternative that matches wins.
_PIECE = re.compile(
    r"(?:[^\r\n\w]|_)?(?:[A-Z]*[^\W\d_A-Z]+|[A-Z]+)"  # a word, with one leading space/symbol
    r"|\d{1,3}"  # a digit group
    r"| ?(?:[^\s\w]|_)+[\r\n/]*"  # a punctuation run, with a leading space and trailing newlines
    r"|\s*[\r\n]+"  # a newline run (with the spaces before it)
    r"|\s+(?!\S)|\s+"  # a space run (its last space goes to the next word)
)
_WORD_CAP = 12
_PUNCT_CAP = 6


def rough_shape(piece: str) -> tuple[str, int]:
    """``(shape key, characters past the key's length cap)`` of one :data:`_PIECE` match, e.g.
    ``(" Revenue", ...)`` → ``("wsc7", 0)``: a word, space prefix, capitalised, 7 letters."""
    first = piece[0]
    if first.isdigit():
        return f"d{len(piece)}", 0
    if piece.isspace():
        return (f"l{min(len(piece), 4)}" if ("\n" in piece or "\r" in piece) else f"s{min(len(piece), 4)}"), 0
    body = piece if first.isalpha() else piece[1:]
    if body and body[0].isalpha():  # a word
        prefix = "n" if body is piece else ("s" if first == " " else "p")
        if not body.isascii():
            case = "x"
        elif body.islower():
            case = "l"
        elif len(body) == 1 or body[1:].islower():
            case = "c"
        else:
            case = "u"
        n = len(body)
        return f"w{prefix}{case}{min(n, _WORD_CAP)}", max(0, n - _WORD_CAP)
    space = first == " "
    core = piece.rstrip("\r\n/")
    if len(core) <= space:  # the run itself was "/"
        core = piece[: space + 1]
    n = len(core) - space
    tail = "n" if len(core) < len(piece) else ""
    wide = "" if core.isascii() else "x"
    return f"p{'s' if space else 'n'}{min(n, _PUNCT_CAP)}{tail}{wide}", max(0, n - _PUNCT_CAP)


@functools.lru_cache(maxsize=65536)
def _piece_milli(piece: str) -> int:
    """Price of one piece in thousandths of a token (integers, so sums are exact and additive)."""
    key, extra = rough_shape(piece)
    base = WEIGHTS.get(key, 1000)
    if extra:
        base += extra * SLOPES.get(key[:3], FALLBACK_SLOPE)
    return base


def rough_milli(text: str) -> int:
    """:func:`rough_tokens` before rounding, in thousandths of a token; additive over
    :func:`~brain_agent.llm.tokenizer.independent_chunks`."""
    price = _piece_milli
    return sum(price(m.group()) for m in _PIECE.finditer(text))


def rough_tokens(text: str) -> int:
    """A tokenizer-free estimate, content-aware (see the module docstring)."""
    if not text:
        return 0
    return max(1, (rough_milli(text) + 500) // 1000)


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
        self._counters: dict[str, TokenCounter] = {}
        self._rough_chunk = functools.lru_cache(maxsize=_CHUNK_MEMO_SIZE)(rough_milli)

    def factor(self, model: str, method: str) -> float:
        state = self.calibration.get((model, method))
        return state.factor if state is not None else 1.0

    def _count(self, text: str, model: str) -> tuple[int, bool]:
        if self.method == "rough":
            memo, limit = self._rough_chunk, _MAX_MEMO_CHUNK
            milli = sum(memo(c) if len(c) <= limit else rough_milli(c) for c in independent_chunks(text))
            return (max(1, (milli + 500) // 1000) if text else 0), False
        encoding, exact = encoding_for_model(model)
        counter = self._counters.get(encoding)
        if counter is None:
            counter = TokenCounter(encoding, memo_size=_CHUNK_MEMO_SIZE, max_chunk_chars=_MAX_MEMO_CHUNK)
            self._counters[encoding] = counter
        return counter.count(text), exact

    def _raw(self, text: str, model: str) -> tuple[int, bool]:
        """The uncorrected count, memoised: the gate and the provider wrapper count the same prompt."""
        key = (self.method, model, text)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._count(text, model)
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.pop(next(iter(self._memo)))
            self._memo[key] = hit
        return hit

    def estimate(
        self,
        text: str,
        model: str,
        *,
        identity: str | None = None,
        trusted: bool = True,
        uncalibrated_factor: float = 1.0,
    ) -> Estimate:
        """The prompt tokens the gate reserves for ``text``.

        ``identity`` names who bills the call (provider, endpoint, model; default: the model) and
        keys its calibration. A ``trusted`` biller counts exactly as we do (the mock): an exact
        count is used as is. Any other biller is corrected by its learned ``billed / counted``
        ratio plus the safety margin, and before its first settled call by ``uncalibrated_factor``.
        """
        raw, exact = self._raw(text, model)
        key = identity or model
        state = self.calibration.get((key, self.method))
        if trusted or state is None or not state.samples:
            if trusted and exact:
                return Estimate(raw, raw, "exact", True, 1.0)
            factor = (state.factor if state is not None else 1.0) if trusted else uncalibrated_factor
            margin = self.safety_margin if trusted else 0.0
            return Estimate(math.ceil(raw * factor * (1.0 + margin)), raw, self.method, exact, factor)
        factor = state.factor
        if exact and abs(factor - 1.0) < 1e-9:
            return Estimate(raw, raw, "exact", True, 1.0)
        return Estimate(math.ceil(raw * factor * (1.0 + self.safety_margin)), raw, self.method, exact, factor)

    def observe(
        self, text: str, model: str, actual_prompt_tokens: int, *, identity: str | None = None
    ) -> CalibrationState | None:
        """Learn from a billed prompt count; returns the new state. Every biller is calibrated,
        exact-tokenizer models included: a proxy that adds a system prompt, or a server that counts
        with another tokenizer under a GPT-like name, bills more than the exact count."""
        raw, _exact = self._raw(text, model)
        key = (identity or model, self.method)
        state = self.calibration.get(key, CalibrationState(identity or model, self.method))
        new = state.update(raw, actual_prompt_tokens)
        self.calibration[key] = new
        return new
