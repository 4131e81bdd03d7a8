"""A deterministic fake model: plausible answers from the prompt alone, real token counts.

``purpose="alpha"``: reads the pack and the idea out of the prompt (see ``prompt_pack``) and writes
the Fast Expression that fits the idea, using only the fields and operators listed there (see
``mock_alpha``: reversal → ``rank(-ts_delta(close, 5))``, momentum → ``ts_mean`` / ``ts_rank`` of
returns, value → a ratio to price; the explore lane half of the time tries a free composition of 2–6
operators instead)::

    ```
    group_neutralize(rank(-ts_delta(close, 5)), subindustry)
    ```
    Rationale: ...

``purpose="idea"``: reads the idea spec from the prompt's ```json block and answers a refined JSON
object ``{"id", "title", "hypothesis", "target_subcategories", "lane", "priority", "tags"}``.

With probability ``invalid_share`` (seeded) the answer is deliberately unusable (unknown field, wrong
arity, no expression, broken JSON), so error paths get exercised. Same (seed, model, request) → the
same text and usage, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from typing import Any

from brain_agent.errors import InputError
from brain_agent.llm.base import LLMRequest, LLMResponse, Usage
from brain_agent.llm.providers.mock_alpha import rationale, write_for_idea
from brain_agent.llm.providers.prompt_pack import PromptOperator, PromptPack, parse_prompt_pack
from brain_agent.llm.tokenizer import DEFAULT_ENCODING, count_tokens

LOOKBACKS = (5, 10, 20, 22, 60, 120, 252)
INVALID_KINDS = ("unknown_field", "wrong_arity", "no_expression")
_JSON_BLOCK = re.compile(r"```json\s*\n(.*?)\n\s*```", re.DOTALL)
_IDEA_KEYS = ("id", "title", "hypothesis", "target_subcategories", "lane", "priority", "tags")
_ANGLES = (
    ("short-horizon reversal", "prices overshoot on crowded flows and mean-revert within days"),
    ("slow drift", "information diffuses slowly across the cross-section, so trends persist"),
    ("peer-relative value", "stocks cheap against their own group tend to catch up"),
    ("volatility-scaled", "signals are stronger when scaled by recent realised risk"),
    ("liquidity-conditioned", "the effect concentrates where trading volume is unusual"),
)


def _tier(op: PromptOperator) -> int:
    """Inner → outer ordering: time-series first, then element-wise/cross-sectional, groups last."""
    if "group" in op.slots:
        return 2
    return 0 if op.name.startswith("ts_") else 1


class MockProvider:
    """Fake LLM; see the module docstring. ``latency_s`` is slept per call (0 in tests)."""

    name = "mock"

    def __init__(
        self, model: str = "mock-alpha-1", seed: int = 0, latency_s: float = 0.0, invalid_share: float = 0.0
    ) -> None:
        if not 0.0 <= invalid_share <= 1.0:
            raise InputError(
                f"invalid_share must be within [0, 1], got {invalid_share}", invalid_share=invalid_share
            )
        if latency_s < 0:
            raise InputError(f"latency_s must be >= 0, got {latency_s}", latency_s=latency_s)
        self.model = model
        self.seed = seed
        self.latency_s = latency_s
        self.invalid_share = invalid_share

    def __repr__(self) -> str:
        return (
            f"MockProvider(model={self.model!r}, seed={self.seed}, latency_s={self.latency_s}, "
            f"invalid_share={self.invalid_share})"
        )

    def complete(self, request: LLMRequest) -> LLMResponse:
        started = time.perf_counter()
        digest = hashlib.sha256(
            json.dumps([self.seed, self.model, request.cache_key_parts()], sort_keys=True).encode()
        ).digest()
        rng = random.Random(int.from_bytes(digest[:8], "big"))
        invalid = rng.random() < self.invalid_share
        if request.purpose == "idea":
            text = self._idea(request.prompt, rng, invalid)
        else:
            text = self._alpha(request.prompt, rng, invalid)
        if self.latency_s:
            time.sleep(self.latency_s)
        prompt_text = (request.system or "") + request.prompt
        usage = Usage(
            uncached_input=count_tokens(prompt_text),
            output=count_tokens(text),
            raw={"estimated": False, "encoding": DEFAULT_ENCODING, "invalid": invalid},
        )
        return LLMResponse(
            text=text,
            usage=usage,
            latency_s=time.perf_counter() - started,
            provider=self.name,
            model=self.model,
            response_id=f"mock-{digest.hex()[:16]}",
        )

    # -- alpha -------------------------------------------------------------------------------------

    def _alpha(self, prompt: str, rng: random.Random, invalid: bool) -> str:
        pack = parse_prompt_pack(prompt)
        expression, intent = write_for_idea(pack, rng, write_expression)
        if invalid or expression is None:
            return _invalid_alpha(pack, rng, expression)
        return f"```\n{expression}\n```\nRationale: {rationale(intent)}"

    # -- idea --------------------------------------------------------------------------------------

    def _idea(self, prompt: str, rng: random.Random, invalid: bool) -> str:
        spec: dict[str, Any] = {}
        match = _JSON_BLOCK.search(prompt)
        if match:
            try:
                loaded = json.loads(match.group(1))
            except json.JSONDecodeError:
                loaded = None
            if isinstance(loaded, dict):
                spec = loaded
        if invalid:
            return 'Here is the refined idea: {"id": ' + json.dumps(spec.get("id", "idea")) + ', "title": '
        angle, why = rng.choice(_ANGLES)
        base_title = str(spec.get("title") or "Untitled idea").strip()
        base_hypothesis = str(spec.get("hypothesis") or "").strip().rstrip(".")
        subcats = spec.get("target_subcategories") or parse_prompt_pack(prompt).subcategories[:3]
        tags = [str(t) for t in spec.get("tags") or [] if str(t)]
        for tag in ("refined", angle.replace(" ", "-")):
            if tag not in tags:
                tags.append(tag)
        priority = spec.get("priority")
        if not isinstance(priority, int | float) or isinstance(priority, bool):
            priority = round(rng.uniform(0.3, 0.9), 2)
        refined = {
            "id": spec.get("id") or f"idea-{rng.getrandbits(32):08x}",
            "title": f"{base_title} ({angle})",
            "hypothesis": (f"{base_hypothesis}; " if base_hypothesis else "") + f"{why}.",
            "target_subcategories": list(subcats),
            "lane": spec.get("lane") or "explore",
            "priority": priority,
            "tags": tags,
        }
        return json.dumps({key: refined[key] for key in _IDEA_KEYS}, indent=2)


def write_expression(pack: PromptPack, rng: random.Random) -> str | None:
    """A valid-by-construction expression over the pack, or None when the pack cannot make one."""
    matrix = pack.fields_of("MATRIX")
    vectors = pack.fields_of("VECTOR")
    groups = pack.fields_of("GROUP")

    def usable(op: PromptOperator) -> bool:
        return ("group" not in op.slots or bool(groups)) and ("vector" not in op.slots or bool(vectors))

    wrappers = [op for op in pack.operators if "expr" in op.slots and "vector" not in op.slots and usable(op)]
    leaves = [op for op in pack.operators if "vector" in op.slots and "expr" not in op.slots and usable(op)]

    def fill(op: PromptOperator, inner: str | None) -> str:
        args: list[str] = []
        for slot in op.slots:
            if slot == "expr":
                args.append(inner if inner is not None else leaf())
                inner = None
            elif slot == "lookback":
                args.append(str(rng.choice(LOOKBACKS)))
            elif slot == "int":
                args.append(str(rng.choice((1, 2, 3))))
            elif slot == "group":
                args.append(rng.choice(groups))
            else:
                args.append(rng.choice(vectors))
        return f"{op.name}({', '.join(args)})"

    spare = [1]  # operator calls still allowed for vec_* leaves (the total stays within 2–6)

    def leaf() -> str:
        if leaves and (not matrix or (spare[0] > 0 and rng.random() < 0.25)):
            spare[0] -= 1
            return fill(rng.choice(leaves), None)
        return rng.choice(matrix)

    if not matrix and not leaves:
        return None
    if not wrappers:
        return leaf()
    count = rng.randint(2, 6)
    spare[0] = 6 - count
    chosen = sorted((rng.choice(wrappers) for _ in range(count)), key=_tier)
    expression = leaf()
    for i, op in enumerate(chosen):
        if i == 0 and rng.random() < 0.3:
            expression = f"-{expression}"
        expression = fill(op, expression)
    return expression


def _invalid_alpha(pack: PromptPack, rng: random.Random, expression: str | None) -> str:
    kind = rng.choice(INVALID_KINDS) if expression else "no_expression"
    known = {f.id for f in pack.fields}
    if kind == "wrong_arity":
        multi = [op for op in pack.operators if len(op.slots) >= 2 and not op.variadic]
        if multi:
            op = rng.choice(multi)
            return f"```\n{op.name}({expression})\n```\nRationale: a compact form of the signal."
        kind = "unknown_field"
    if kind == "unknown_field" and expression:
        bogus = "mock_unknown_field"
        while bogus in known:
            bogus += "_x"
        target = rng.choice(sorted(f for f in known if re.search(rf"\b{f}\b", expression)) or [""])
        broken = re.sub(rf"\b{target}\b", bogus, expression, count=1) if target else f"rank({bogus})"
        return f"```\n{broken}\n```\nRationale: uses a field that captures the effect directly."
    return "I could not find a good combination of these fields and operators for this idea."
