"""Command-line interface: ``brain-agent …`` and ``python -m brain_agent.cli …``.

Each command module registers its commands on the shared Typer ``app`` when imported.
"""

from brain_agent.cli import batch, budget, chain, demo, runs, serve, simulate, sync  # noqa: F401  (registers commands)
from brain_agent.cli.app import app, main, run

__all__ = ["app", "main", "run"]
