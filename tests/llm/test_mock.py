from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pytest

from brain_agent.errors import InputError
from brain_agent.llm import LLMRequest, MockProvider, count_tokens

PROMPT = """You write one WorldQuant BRAIN Fast Expression for the idea below.

## Idea
Short-term reversal in liquid names.

## Data fields
- close (MATRIX): daily close price
- volume (MATRIX): daily traded volume
- returns (MATRIX): daily returns
- eps_estimates (VECTOR): analyst EPS estimates
- industry (GROUP): GICS industry

## Operators
- rank(x, rate=2): cross-sectional rank
- ts_delta(x, d): today minus d days ago
- ts_rank(x, d, constant=0): time-series rank
- ts_corr(x, y, d): rolling correlation
- group_neutralize(x, group): demean within group
- vec_avg(x): mean of a vector field
- add(x, y, ..., filter=false): sum
- bucket(x, range="0,1,0.1"): buckets into groups
- if_else(cond, x, y): branch
- zscore(x): cross-sectional z-score

## Subcategories
- price-volume: price and volume data
"""
# The same pack without an idea: the mock composes freely (the idea-reading side is in test_mock_ideas.py).
FREE_PROMPT = PROMPT.replace("## Idea\nShort-term reversal in liquid names.\n\n", "")
assert FREE_PROMPT != PROMPT
# Independent expectations for the prompt above: operator → (min args, max args or None).
ARITY = {
    "rank": (1, 1),
    "ts_delta": (2, 2),
    "ts_rank": (2, 2),
    "ts_corr": (3, 3),
    "group_neutralize": (2, 2),
    "vec_avg": (1, 1),
    "add": (2, None),
    "zscore": (1, 1),
}
MATRIX, VECTOR, GROUP = {"close", "volume", "returns"}, {"eps_estimates"}, {"industry"}
TOKEN = re.compile(r"\s*(?:([A-Za-z_]\w*)\s*(\()?|(\d+(?:\.\d+)?)|([(),\-]))")


def fenced(text: str) -> str | None:
    match = re.search(r"```[a-z]*\n(.*?)\n```", text, re.DOTALL)
    return match.group(1).strip() if match else None


@dataclass
class Frame:
    op: str
    kinds: list[str] = field(default_factory=list)


def check(expression: str) -> list[str]:
    """A small parser-free validator: known names, arity, argument kinds by position."""
    problems: list[str] = []
    stack: list[Frame] = []
    pos = 0
    last_kind = ""
    while pos < len(expression):
        m = TOKEN.match(expression, pos)
        if not m:
            return [f"bad character at {pos}"]
        pos = m.end()
        name, call, number, punct = m.groups()
        if name and call:
            if name not in ARITY:
                problems.append(f"unknown operator {name}")
            stack.append(Frame(name))
            last_kind = ""
            continue
        if name:
            last_kind = (
                "matrix"
                if name in MATRIX
                else "vector"
                if name in VECTOR
                else "group"
                if name in GROUP
                else ""
            )
            if not last_kind:
                problems.append(f"unknown field {name}")
        elif number:
            last_kind = "int" if number.isdigit() and int(number) > 0 else "number"
        elif punct in (",", ")"):
            if not stack:
                return [*problems, "unbalanced"]
            stack[-1].kinds.append(last_kind)
            if punct == ")":
                frame = stack.pop()
                op, kinds = frame.op, frame.kinds
                low, high = ARITY.get(op, (0, None))
                if len(kinds) < low or (high is not None and len(kinds) > high):
                    problems.append(f"{op} takes {low}..{high} args, got {len(kinds)}")
                if op in ("ts_delta", "ts_rank", "ts_corr") and kinds[-1] != "int":
                    problems.append(f"{op} lookback is not a positive int")
                if op == "group_neutralize" and kinds[-1] != "group":
                    problems.append("group slot without a group field")
                if op == "vec_avg" and kinds != ["vector"]:
                    problems.append("vec_avg needs a VECTOR field")
                if op != "vec_avg" and "vector" in kinds:
                    problems.append(f"VECTOR field outside vec_* in {op}")
                last_kind = "matrix"
    if stack:
        problems.append("unbalanced")
    return problems


def alpha(seed: int, invalid_share: float = 0.0, prompt: str = FREE_PROMPT) -> str:
    return MockProvider(seed=seed, invalid_share=invalid_share).complete(LLMRequest(prompt=prompt)).text


def test_the_checker_itself_rejects_bad_expressions() -> None:
    assert check("group_neutralize(rank(-ts_delta(close, 5)), industry)") == []
    assert check("ts_delta(close)") != []
    assert check("rank(eps_estimates)") != []
    assert check("rank(open)") != []
    assert check("bucket(close)") != []
    assert check("group_neutralize(close, close)") != []


def test_same_seed_same_answer_and_usage_different_seed_differs() -> None:
    request = LLMRequest(prompt=PROMPT, system="You are a quant.")
    first = MockProvider(seed=7).complete(request)
    again = MockProvider(seed=7).complete(request)
    assert (first.text, first.usage, first.response_id) == (again.text, again.usage, again.response_id)
    assert len({alpha(seed) for seed in range(10)}) >= 8
    assert len({alpha(seed, prompt=PROMPT) for seed in range(10)}) >= 4  # one idea: fewer ways to say it


def test_usage_is_counted_with_the_real_tokenizer() -> None:
    request = LLMRequest(prompt=PROMPT, system="You are a quant.")
    response = MockProvider().complete(request)
    assert response.usage.uncached_input == count_tokens("You are a quant." + PROMPT)
    assert response.usage.output == count_tokens(response.text) > 0
    assert (response.usage.cached_input, response.usage.reasoning) == (0, 0)
    assert response.provider == "mock" and response.model == "mock-alpha-1"


def test_valid_answers_use_only_the_prompt_pack_with_2_to_6_operators() -> None:
    operators_seen: set[str] = set()
    for seed in range(60):
        text = alpha(seed)
        expression = fenced(text)
        assert expression is not None, text
        assert check(expression) == [], (seed, expression)
        calls = re.findall(r"([a-z_]+)\(", expression)
        assert 2 <= len(calls) <= 6, expression
        operators_seen.update(calls)
        assert re.search(r"\nRationale: .+", text)
    # The mock explores the pack, never the operators it cannot fill safely.
    assert {"rank", "ts_delta", "group_neutralize", "vec_avg", "ts_corr"} <= operators_seen
    assert not {"bucket", "if_else"} & operators_seen


def test_invalid_share_one_is_always_invalid_and_covers_each_kind() -> None:
    kinds: set[str] = set()
    for seed in range(60):
        text = alpha(seed, invalid_share=1.0)
        expression = fenced(text)
        if expression is None:
            kinds.add("no_expression")
            continue
        problems = check(expression)
        assert problems, (seed, expression)
        kinds.update("unknown_field" if "unknown field" in p else "wrong_arity" for p in problems)
    assert kinds == {"no_expression", "unknown_field", "wrong_arity"}


def test_invalid_share_is_a_seeded_fraction() -> None:
    invalid = sum(
        bool(fenced(t) is None or check(fenced(t) or "")) for t in map(lambda s: alpha(s, 0.3), range(200))
    )
    assert 30 <= invalid <= 90


def test_no_usable_pack_gives_no_expression() -> None:
    text = alpha(0, prompt="Write an alpha.\n\n## Data fields\n\n## Operators\n")
    assert fenced(text) is None


IDEA_PROMPT = """Refine the idea below. Answer with one JSON object.

```json
{"id": "idea-042", "title": "Earnings drift", "hypothesis": "Prices under-react to surprises.",
 "target_subcategories": ["analyst-estimates"], "lane": "explore", "priority": 0.4, "tags": ["pead"]}
```
"""


def test_idea_answer_keeps_id_and_lane_and_refines_deterministically() -> None:
    request = LLMRequest(prompt=IDEA_PROMPT, purpose="idea")
    answer = json.loads(MockProvider(seed=3).complete(request).text)
    assert list(answer) == ["id", "title", "hypothesis", "target_subcategories", "lane", "priority", "tags"]
    assert (answer["id"], answer["lane"], answer["priority"]) == ("idea-042", "explore", 0.4)
    assert answer["target_subcategories"] == ["analyst-estimates"]
    assert answer["title"].startswith("Earnings drift") and answer["title"] != "Earnings drift"
    assert answer["hypothesis"].startswith("Prices under-react to surprises")
    assert "pead" in answer["tags"]
    assert MockProvider(seed=3).complete(request).text == json.dumps(answer, indent=2)


def test_idea_invalid_share_gives_unparseable_json() -> None:
    text = MockProvider(invalid_share=1.0).complete(LLMRequest(prompt=IDEA_PROMPT, purpose="idea")).text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_latency_is_slept_and_reported() -> None:
    response = MockProvider(latency_s=0.02).complete(LLMRequest(prompt=PROMPT))
    assert response.latency_s >= 0.02


@pytest.mark.parametrize(
    ("kwargs", "word"), [({"invalid_share": 1.5}, "invalid_share"), ({"latency_s": -1}, "latency_s")]
)
def test_bad_options_are_input_errors(kwargs: dict[str, float], word: str) -> None:
    with pytest.raises(InputError, match=word):
        MockProvider(**kwargs)  # type: ignore[arg-type]
