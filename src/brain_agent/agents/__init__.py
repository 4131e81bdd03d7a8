"""Agents: the pipeline that owns the run boundary."""

from brain_agent.agents.pipeline import Pipeline, RunContext

__all__ = ["Pipeline", "RunContext"]
