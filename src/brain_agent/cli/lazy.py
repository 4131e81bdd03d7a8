"""Commands are imported when they run: ``brain-agent --help`` reads this table, not the modules.

Each command module registers its commands on the shared Typer ``app`` when imported (and pulls in
what it needs: the agents, the simulator, the server...). The root group below knows every command's
name, module and one-line help, so listing them costs nothing; resolving one imports its module.
``tests/cli/test_lazy.py`` fails when this table and the modules disagree.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

# name → (module that registers it, first paragraph of its help), in the order --help lists them
COMMANDS: dict[str, tuple[str, str]] = {
    "version": ("brain_agent.cli.app", "Print the installed brain-agent version."),
    "estimate-prompt-cost": (
        "brain_agent.cli.budget",
        "Tokens and cost of the alpha prompt for a retrieval pack, and what the fallback ladder would do."
        "\nExit 0 when it fits (unchanged or after fallback), 3 when nothing fits (a failure code says "
        "which cap).",
    ),
    "run-idea-agent": (
        "brain_agent.cli.chain",
        "Refine one idea spec or a list of them through the LLM (every call through the budget gate;"
        "\nexit 3 naming the cap when one is blocked).",
    ),
    "build-retrieval-pack": (
        "brain_agent.cli.chain",
        "Rank fields, operators and subcategories for an idea into a retrieval pack.",
    ),
    "run-alpha-maker": (
        "brain_agent.cli.chain",
        "Render the prompt from the pack, call the LLM, validate the expression, write the candidate.",
    ),
    "validate-expression": (
        "brain_agent.cli.validate",
        "Parse and validate expressions; exit 0 if all are valid, 2 if any is not.",
    ),
    "run-batch": (
        "brain_agent.cli.batch",
        "Run one batch under the budget. Exit 0 when every idea ran, 3 when any idea was blocked by a cap"
        "\n(deferred to the next batch or discarded, per the config).",
    ),
    "demo": (
        "brain_agent.cli.demo",
        "Fresh store, server + HUD, and live mock batches paced for watching (mock LLM, local simulator).",
    ),
    "serve": (
        "brain_agent.cli.serve",
        "Serve the dashboard API (OpenAPI at /docs), the WebSocket stream and the Reactor Core HUD.",
    ),
    "simulate-candidates": (
        "brain_agent.cli.simulate",
        "Simulate candidates (local synthetic market or BRAIN) and write BRAIN-shaped results.",
    ),
    "sync-knowledge-pack": (
        "brain_agent.cli.sync",
        "Refresh the knowledge pack from BRAIN's GET /operators and GET /data-fields.",
    ),
    "budget": ("brain_agent.cli.budget", "The token/cost budget: schema, validation, live status."),
    "events": ("brain_agent.cli.budget", "The event log."),
    "runs": (
        "brain_agent.cli.runs",
        "List runs with their cost and results; `runs show RUN` lists one run's candidates.",
    ),
}


def load_all() -> None:
    """Import every command module (the CLI reference and the tests want the real commands)."""
    for module, _ in COMMANDS.values():
        importlib.import_module(module)


class LazyGroup(TyperGroup):
    """The root group: lists commands from ``COMMANDS``; imports a command's module on first use."""

    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        loaded = super().list_commands(ctx)
        return [*COMMANDS, *(name for name in loaded if name not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in COMMANDS:
            return command
        module, short = COMMANDS[cmd_name]
        if self._listing:  # the help listing needs a name and a line, not the module
            return TyperCommand(name=cmd_name, help=short)
        importlib.import_module(module)
        from brain_agent.cli.app import app

        fresh = typer.main.get_command(app)
        self.commands.update(getattr(fresh, "commands", {}))
        return self.commands.get(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
