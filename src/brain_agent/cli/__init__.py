"""Command-line interface: ``brain-agent …`` and ``python -m brain_agent.cli …``.

Each command module registers its commands on the shared Typer ``app`` when imported.
"""

from brain_agent.cli import (  # noqa: F401  (registers commands)
    batch,
    budget,
    chain,
    demo,
    serve,
    simulate,
    sync,
    validate,
)
from brain_agent.cli.app import app, main, run

__all__ = ["app", "main", "run"]
