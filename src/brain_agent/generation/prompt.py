"""Render the alpha-maker prompt from a retrieval pack at a given Top-K.

The section headings and line shapes are a contract with the mock provider (it reads the pack back
out of the prompt): ``## Data fields`` lines ``- <id> (<TYPE>): <description>``, ``## Operators``
lines ``- <signature>: <description>``, ``## Subcategories`` lines ``- <id> (<name>): <description>``.
"""

from __future__ import annotations

from collections.abc import Sequence

from brain_agent.ideas import IdeaSpec
from brain_agent.retrieval import RetrievalPack, TopK

SYSTEM_PROMPT = (
    "You are an expert WorldQuant BRAIN alpha researcher. You write one Fast Expression alpha at a time, "
    "using only the data fields and operators you are given. Fast Expression: statements separated by ';', "
    "assignments 'name = expr;', the last statement is the alpha; infix + - * / and comparisons; "
    "keyword arguments like 'rank(x, rate=2)'. Lookbacks are positive integer constants. GROUP fields only "
    "as the group argument of group_* operators; VECTOR fields only inside vec_* operators."
)


def _line(text: str) -> str:
    return " ".join(text.split())


def render_alpha_prompt(
    idea: IdeaSpec, pack: RetrievalPack, topk: TopK, *, feedback: Sequence[str] = ()
) -> str:
    """The user prompt for ``idea`` with the pack cut to ``topk``. ``feedback`` carries validation
    errors of earlier attempts (expansion / repair)."""
    sel = pack.select(topk)
    out: list[str] = [
        "# Task",
        "Write one WorldQuant BRAIN Fast Expression alpha that tests the idea below.",
        "",
        "## Idea",
        f"- id: {idea.id}",
        f"- lane: {idea.lane}",
        f"- title: {_line(idea.title)}",
        f"- hypothesis: {_line(idea.hypothesis)}",
    ]
    if idea.tags:
        out.append(f"- tags: {', '.join(idea.tags)}")
    out += ["", "## Subcategories"]
    out += [f"- {s.id} ({s.name}): {_line(s.description)}" for s in sel.subcategories]
    out += ["", "## Data fields"]
    out += [f"- {f.id} ({f.type}): {_line(f.description)}" for f in [*sel.fields, *sel.always_fields]]
    out += ["", "## Operators"]
    out += [f"- {o.signature}: {_line(o.description)}" for o in sel.operators]
    if feedback:
        out += ["", "## Earlier attempts failed validation"]
        out += [f"- {_line(item)}" for item in feedback]
    out += [
        "",
        "## Answer format",
        "The expression alone in one fenced code block, then one line of rationale.",
    ]
    return "\n".join(out) + "\n"
