"""IdeaSpec: what an alpha idea says before any expression exists."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from brain_agent.errors import InputError
from brain_agent.jsonio import read_json, validate_model

Lane = Literal["exploit", "explore"]


class IdeaSpec(BaseModel):
    """One idea. ``lane`` decides which share of the batch budget pays for it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")
    title: str = Field(min_length=1, max_length=200)
    hypothesis: str = Field(min_length=1, max_length=4000)
    target_subcategories: list[str] = Field(default_factory=list, max_length=32)
    lane: Lane = "exploit"
    priority: int = Field(default=5, ge=1, le=10)
    tags: list[str] = Field(default_factory=list, max_length=32)


def parse_ideas(data: Any, source: str) -> list[IdeaSpec]:
    """One spec object, a list of them, or ``{"ideas": [...]}``; errors name the entry and key."""
    if isinstance(data, dict) and "ideas" in data and isinstance(data["ideas"], list):
        items, prefix = data["ideas"], "ideas."
    elif isinstance(data, list):
        items, prefix = data, ""
    elif isinstance(data, dict):
        return [validate_model(IdeaSpec, data, source)]
    else:
        raise InputError(f"{source}: expected an idea object or a list of ideas, got {type(data).__name__}")
    if not items:
        raise InputError(f"{source}: the list of ideas is empty", file=source)
    ideas = [validate_model(IdeaSpec, item, source, prefix=f"{prefix}{i}.") for i, item in enumerate(items)]
    seen: set[str] = set()
    for i, idea in enumerate(ideas):
        if idea.id in seen:
            raise InputError(f"{source}: key '{prefix}{i}.id': duplicate idea id {idea.id!r}", file=source)
        seen.add(idea.id)
    return ideas


def load_ideas(path: str | Path) -> list[IdeaSpec]:
    return parse_ideas(read_json(path, "ideas"), str(path))


def require_known_subcategories(ideas: Sequence[IdeaSpec], known: Collection[str], source: str) -> None:
    """Refuse (``InputError``, exit 2) ideas whose ``target_subcategories`` name subcategories the
    knowledge pack does not have; the message names the idea, every unknown value and what exists."""
    for idea in ideas:
        unknown = [s for s in idea.target_subcategories if s not in known]
        if unknown:
            names = ", ".join(repr(s) for s in unknown)
            plural = "y" if len(unknown) == 1 else "ies"
            raise InputError(
                f"{source}: idea {idea.id!r}: key 'target_subcategories': unknown subcategor{plural} "
                f"{names}; the knowledge pack has: {', '.join(sorted(known))}",
                key="target_subcategories",
                value=unknown,
                idea_id=idea.id,
            )
