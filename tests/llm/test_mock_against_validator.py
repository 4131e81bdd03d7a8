"""The mock's valid answers pass the real validator against the shipped knowledge pack."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest

from brain_agent.llm import LLMRequest, MockProvider

PACK_DIR = Path(__file__).resolve().parents[2] / "data" / "meta" / "index"
pytestmark = pytest.mark.skipif(
    not (PACK_DIR / "operators.json").is_file(), reason="knowledge pack data/meta/index not built yet"
)


def render(fields: list[Any], operators: list[Any]) -> str:
    """A prompt in the renderer's contract: ``## Data fields`` / ``## Operators`` sections."""
    lines = ["Write one Fast Expression.", "", "## Data fields"]
    lines += [f"- {f.id} ({f.type}): {f.description}" for f in fields]
    lines += ["", "## Operators"]
    lines += [f"- {op.signature}: {op.description}" for op in operators]
    lines += ["", "## Subcategories", "- pv-price: price", ""]
    return "\n".join(lines)


def fenced(text: str) -> str | None:
    match = re.search(r"```[a-z]*\n(.*?)\n```", text, re.DOTALL)
    return match.group(1).strip() if match else None


def test_valid_outputs_validate_and_invalid_ones_do_not() -> None:
    from brain_agent.expression import check
    from brain_agent.knowledge.loader import load_knowledge_pack

    pack = load_knowledge_pack(PACK_DIR)
    fields = sorted(pack.fields.values(), key=lambda f: f.id)
    operators = sorted(pack.operators.values(), key=lambda o: o.name)
    picker = random.Random(0)
    prompts = [render(fields, operators)]
    for _ in range(9):  # Top-K style subsets, as the retrieval pack gives
        prompts.append(render(picker.sample(fields, 25), picker.sample(operators, 20)))
    checked = 0
    for index, prompt in enumerate(prompts):
        for seed in range(20):
            text = MockProvider(seed=seed).complete(LLMRequest(prompt=prompt)).text
            expression = fenced(text)
            if expression is None:
                continue  # a subset with nothing usable
            result = check(expression, pack)
            assert result.ok, (index, seed, expression, [d.message for d in result.diagnostics])
            checked += 1
            bad = fenced(MockProvider(seed=seed, invalid_share=1.0).complete(LLMRequest(prompt=prompt)).text)
            if bad is not None:
                assert not check(bad, pack).ok, (index, seed, bad)
    assert checked >= 150
