"""The Typer application and the one place errors become exit codes."""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
import traceback
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text
from typer._click import exceptions as click_exc  # typer ships its own click

from brain_agent.errors import EXIT_INTERNAL, BrainAgentError, clip
from brain_agent.settings import default_db_location

app = typer.Typer(
    name="brain-agent",
    help="LLM-written WorldQuant BRAIN alphas under a hard token budget, with the Reactor Core HUD.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Markup is off: user text (paths, ids, values) is printed as it is, never read as rich markup; a
# command that wants colour passes a ``Text`` (see ``styled``).
err_console = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)
out_console = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)

MESSAGE_LIMIT = 2000
"""Longest error message printed; longer ones (a huge bad value) keep their head and tail."""


def styled(label: str, style: str, rest: str = "") -> Text:
    """``label`` in ``style`` followed by plain ``rest`` (never interpreted as markup)."""
    return Text.assemble((label, style), rest)


def print_error(message: str, label: str = "error") -> None:
    err_console.print(styled(label, "bold red", f": {clip(message, MESSAGE_LIMIT)}"), soft_wrap=True)


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Store: a SQLite file or postgresql://user@host/db (default: $BRAIN_AGENT_DB, else the "
        "per-user data folder).",
    ),
]


def resolve_db(db: str | Path | None) -> str:
    """The store location a command uses: ``--db``, else ``$BRAIN_AGENT_DB``, else the default file."""
    return str(db) if db is not None else default_db_location()


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (0 ok, 1 internal, 2 bad input, 3 budget blocked)."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="brain-agent", standalone_mode=False)
    except BrainAgentError as exc:
        print_error(exc.message)
        return exc.exit_code
    except typer.Exit as exc:
        return int(exc.exit_code)
    except click_exc.ClickException as exc:
        shown = io.StringIO()
        exc.show(file=shown)  # usage errors echo the bad value: cut it like our own messages
        sys.stderr.write(clip(shown.getvalue(), MESSAGE_LIMIT).rstrip("\n") + "\n")
        return int(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        return 130
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    except Exception:
        incident = uuid.uuid4().hex[:8]
        if os.environ.get("BRAIN_AGENT_DEBUG"):
            traceback.print_exc()
        else:
            log = Path(os.environ.get("TMPDIR", "/tmp")) / f"brain-agent-{incident}.log"
            try:
                log.write_text(traceback.format_exc(), encoding="utf-8")
                where = f"details in {log}"
            except OSError:
                where = "set BRAIN_AGENT_DEBUG=1 to see details"
            err_console.print(styled("internal error", "bold red", f" {incident}: this is a bug; {where}"))
        return EXIT_INTERNAL
    return int(result) if isinstance(result, int) else 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    # SIGTERM (a supervisor, `demo` stopping its batch) stops a command as Ctrl-C does: cleanly, exit
    # 130; one arriving while Python is still starting ends the process silently
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    sys.exit(run())


@app.command("version")
def version_command(
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Also Python's, numpy's and the simulator kernels' details."),
    ] = False,
) -> None:
    """Print the installed brain-agent version.

    With --verbose, also which kernels the local simulator runs: C (built at install when a C
    compiler was there) or numpy (the same results, about 2× the CPU)."""
    from brain_agent import __version__

    out_console.print(__version__, highlight=False)
    if verbose:
        import platform

        import numpy as np

        from brain_agent.simulation.local.kernels import _native

        out_console.print(f"python {platform.python_version()}, numpy {np.__version__}", highlight=False)
        out_console.print(f"local simulator kernels: {_native.describe()}", highlight=False, soft_wrap=True)
