"""The idea agent: refines IdeaSpecs through the LLM, and makes seed ideas for ``run-batch --generate``.

What the LLM returns is validated; an unusable answer is an ``LLMOutputError`` that keeps the raw
text, never a crash.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from brain_agent.errors import LLMOutputError
from brain_agent.ideas.spec import IdeaSpec, Lane
from brain_agent.knowledge import KnowledgePack
from brain_agent.llm.base import LLMProvider, LLMRequest

_SYSTEM = (
    "You are a quantitative researcher on WorldQuant BRAIN. Refine the idea below into a sharper, "
    "testable hypothesis. Keep its id and lane. Answer with one JSON object only."
)
_JSON_BLOCK = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)


def render_idea_prompt(idea: IdeaSpec) -> str:
    spec = json.dumps(idea.model_dump(), indent=2, ensure_ascii=False)
    return (
        "# Idea to refine\n\n```json\n" + spec + "\n```\n\n"
        "Return a JSON object with keys id, title, hypothesis, target_subcategories, lane, priority, tags."
    )


def _extract_json(text: str) -> Any:
    match = _JSON_BLOCK.search(text)
    candidates = [match.group(1)] if match else []
    start, end = text.find("{"), text.rfind("}")
    if start != -1 and end > start:
        candidates.append(text[start : end + 1])
    for chunk in candidates:
        try:
            return json.loads(chunk)
        except json.JSONDecodeError:
            continue
    raise LLMOutputError("the LLM's idea answer holds no JSON object", raw_text=text)


def parse_refined_idea(text: str, original: IdeaSpec) -> IdeaSpec:
    data = _extract_json(text)
    if not isinstance(data, dict):
        raise LLMOutputError("the LLM's idea answer is not a JSON object", raw_text=text)
    merged = {**original.model_dump(), **{k: v for k, v in data.items() if k in IdeaSpec.model_fields}}
    merged["id"], merged["lane"] = original.id, original.lane  # the agent may not move an idea's lane
    try:
        return IdeaSpec.model_validate(merged)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise LLMOutputError(
            f"the LLM's refined idea {original.id!r} is invalid: key '{key}': {first['msg']}", raw_text=text
        ) from None


def refine_idea(provider: LLMProvider, idea: IdeaSpec, *, seed: int | None = None) -> IdeaSpec:
    request = LLMRequest(
        prompt=render_idea_prompt(idea), system=_SYSTEM, max_tokens=600, seed=seed, purpose="idea"
    )
    response = provider.complete(request)
    return parse_refined_idea(response.text, idea)


_THEMES: tuple[tuple[str, str], ...] = (
    ("Short-term reversal", "Prices that moved sharply over a few days tend to partly revert."),
    ("Momentum", "Stocks with strong medium-term returns keep outperforming for a while."),
    ("Value", "Cheap stocks on fundamentals relative to price earn a premium."),
    ("Quality", "Profitable, low-leverage firms are mispriced relative to their risk."),
    ("Liquidity shock", "Unusual volume relative to its average signals information arrival."),
    ("Volatility", "Implied and realised volatility gaps predict future returns."),
    ("Sentiment drift", "News and social sentiment changes lead price moves."),
    ("Analyst revisions", "Upward estimate revisions are followed by positive drift."),
    ("Short squeeze", "Heavily shorted names with rising prices see squeezes."),
)
# Where each theme's data lives: exploit ideas target these (known ground), explore ideas anywhere.
_HOMES: dict[str, tuple[str, ...]] = {
    "Short-term reversal": ("pv-price-volume",),
    "Momentum": ("pv-price-volume",),
    "Value": ("fundamental-financial-ratios", "pv-price-volume"),
    "Quality": ("fundamental-income-statement", "fundamental-balance-sheet"),
    "Liquidity shock": ("pv-price-volume",),
    "Volatility": ("option-volatility-index", "risk-systematic-risk"),
    "Sentiment drift": ("news-news-sentiment", "socialmedia-social-media-sentiment"),
    "Analyst revisions": ("analyst-analyst-estimates", "sentiment-analyst-sentiment"),
    "Short squeeze": ("shortinterest-short-interest", "pv-price-volume"),
}


def generate_ideas(
    n: int, pack: KnowledgePack, *, seed: int = 0, explore_share: float = 0.3
) -> list[IdeaSpec]:
    """Deterministic seed ideas for ``run-batch --generate N``, spread over the pack's subcategories.

    Exploit ideas target their theme's home subcategories (prices for reversal and momentum,
    ratios and prices for value...) when the pack has them; explore ideas target random ones. Explore
    ideas are speculative, so they get lower priorities (2–5) than exploit ones (5–9): a shrinking
    batch would drop them first, which is what the explore floor is there to stop."""
    rng = random.Random(seed)
    subcategories = sorted(pack.subcategories)
    n_explore = round(n * explore_share)
    ideas: list[IdeaSpec] = []
    for i in range(n):
        lane: Lane = "explore" if i >= n - n_explore else "exploit"
        title, hypothesis = _THEMES[(i + seed) % len(_THEMES)]
        subs = rng.sample(subcategories, k=min(2, len(subcategories))) if subcategories else []
        home = [s for s in _HOMES.get(title, ()) if s in pack.subcategories]
        if lane == "exploit" and home:
            subs = home
        ideas.append(
            IdeaSpec(
                id=f"idea-{seed}-{i + 1:03d}",
                title=f"{title} #{i + 1}",
                hypothesis=hypothesis,
                target_subcategories=subs,
                lane=lane,
                priority=rng.randint(2, 5) if lane == "explore" else rng.randint(5, 9),
                tags=[title.lower().replace(" ", "-")],
            )
        )
    return ideas
