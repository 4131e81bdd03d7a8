"""Generate the CLI reference (``docs/cli.md``): ``python -m brain_agent.cli.reference``.

A test fails when the checked-in file is stale or a command has no help, so the docs cannot drift.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from brain_agent.cli import app, load_all

HEADER = (
    "# CLI reference\n\n"
    "Generated from the commands' own help by `python -m brain_agent.cli.reference > docs/cli.md`; "
    "do not edit by hand.\n\n"
    "Exit codes: `0` ok, `1` internal error, `2` bad input or usage, `3` blocked by the budget, "
    "`4` output not written (disk full), `5` a candidate ended in ERROR, `6` a remote service failed "
    "(see [errors.md](errors.md)).\n"
)


def _params(command: Any) -> list[str]:
    rows = []
    for p in command.params:
        if p.name == "help":
            continue
        names = ", ".join(f"`{o}`" for o in [*p.opts, *getattr(p, "secondary_opts", [])]) or f"`{p.name}`"
        if p.param_type_name == "argument":
            names = f"`{p.name.upper()}`"
        text = " ".join((getattr(p, "help", None) or "").split()).replace("|", "\\|")
        default = p.default
        shown = "" if default in (None, False, ()) or callable(default) else f" (default: `{default}`)"
        rows.append(f"| {names} | {text}{shown} |")
    return rows


def _walk(command: Any, path: str) -> list[tuple[str, Any]]:
    subs = getattr(command, "commands", None)
    if not subs:
        return [(path, command)]
    # a group that does something on its own (``runs`` lists runs) is a command too
    out: list[tuple[str, Any]] = (
        [(path, command)] if getattr(command, "invoke_without_command", False) else []
    )
    for name in sorted(subs):
        out += _walk(subs[name], f"{path} {name}".strip())
    return out


def commands() -> list[tuple[str, Any]]:
    load_all()
    return _walk(typer.main.get_command(app), "")


def render() -> str:
    parts = [HEADER]
    for path, command in commands():
        help_text = (command.help or "").strip()
        parts.append(f"\n## `brain-agent {path}`\n\n{help_text}\n")
        rows = _params(command)
        if rows:
            parts.append("\n| option | meaning |\n|---|---|\n" + "\n".join(rows) + "\n")
    return "".join(parts)


if __name__ == "__main__":
    sys.stdout.write(render())
