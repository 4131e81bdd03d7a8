"""Ideas: the IdeaSpec and the idea agent."""

from brain_agent.ideas.agent import generate_ideas, parse_refined_idea, refine_idea, render_idea_prompt
from brain_agent.ideas.spec import IdeaSpec, Lane, load_ideas, parse_ideas

__all__ = [
    "IdeaSpec",
    "Lane",
    "generate_ideas",
    "load_ideas",
    "parse_ideas",
    "parse_refined_idea",
    "refine_idea",
    "render_idea_prompt",
]
