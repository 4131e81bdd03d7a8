"""Command-line interface: ``brain-agent …`` and ``python -m brain_agent.cli …``.

Each command module registers its commands on the shared Typer ``app`` when imported; the root group
(``cli.lazy``) imports a module only when one of its commands runs, so ``--help`` stays fast.
"""

from brain_agent.cli.app import app, main, run
from brain_agent.cli.lazy import LazyGroup, load_all

app.info.cls = LazyGroup


@app.callback()
def _root() -> None:
    """A group, never a single command, however few commands are loaded yet."""


__all__ = ["app", "load_all", "main", "run"]
