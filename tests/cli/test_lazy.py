"""Commands are imported when they run: the table ``cli.lazy.COMMANDS`` matches the real commands, and
``--help`` (or a light command) loads none of the heavy stacks. Timing lives in benchmarks/bench_cli.py."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import typer

from brain_agent.cli import app, load_all
from brain_agent.cli.lazy import COMMANDS

HEAVY = ("fastapi", "uvicorn", "numpy", "pydantic", "brain_agent.agents", "brain_agent.server", "httpx")


def test_the_table_matches_the_commands() -> None:
    load_all()
    root = typer.main.get_command(app)
    real = {
        name: inspect.cleandoc(cmd.help or "").split("\n\n")[0]
        for name, cmd in getattr(root, "commands", {}).items()
    }
    # registration order depends on which modules earlier tests imported; --help lists COMMANDS' order
    assert set(real) == set(COMMANDS), "cli/lazy.py COMMANDS: names differ from the modules'"
    for name, (_, first) in COMMANDS.items():
        assert first == real[name], (
            f"cli/lazy.py COMMANDS[{name!r}]: the help's first paragraph is {real[name]!r}"
        )


def test_each_command_comes_from_its_module() -> None:
    """Importing the modules one by one (fresh process) registers exactly the table's commands."""
    code = (
        "import importlib, json\n"
        "from brain_agent.cli import app\n"
        "from brain_agent.cli.lazy import COMMANDS\n"
        "def names():\n"
        "    out = {c.name or c.callback.__name__.replace('_', '-') for c in app.registered_commands}\n"
        "    return out | {g.name for g in app.registered_groups}\n"
        "found = {}\n"
        "for module in dict.fromkeys(m for m, _ in COMMANDS.values()):\n"
        "    before = names()\n"
        "    importlib.import_module(module)\n"
        "    found.update({n: module for n in names() - before})\n"
        "found.update({n: 'brain_agent.cli.app' for n in names() if n not in found})\n"
        "print(json.dumps(found))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    found = json.loads(done.stdout)
    assert found == {name: module for name, (module, _) in COMMANDS.items()}


def _loaded_after(args: list[str], tmp_path: Path) -> tuple[int, list[str], str]:
    code = (
        "import json, sys\n"
        "from brain_agent.cli import run\n"
        f"rc = run({args!r})\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m.startswith({HEAVY!r}))\n"
        "print('@@' + json.dumps([rc, heavy]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"BRAIN_AGENT_DB": str(tmp_path / "s.db"), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )
    rc, heavy = json.loads(done.stdout.rsplit("@@", 1)[1])
    return int(rc), list(heavy), done.stdout


def test_help_loads_no_heavy_stack(tmp_path: Path) -> None:
    rc, heavy, out = _loaded_after(["--help"], tmp_path)
    assert rc == 0 and heavy == [], heavy
    for name in COMMANDS:
        assert name in out


def test_a_light_command_loads_only_what_it_needs(tmp_path: Path) -> None:
    rc, heavy, out = _loaded_after(["runs", "--json"], tmp_path)
    assert rc == 0, out
    assert not [
        m for m in heavy if m.startswith(("fastapi", "uvicorn", "brain_agent.server", "brain_agent.agents"))
    ]


def test_unknown_command_is_a_usage_error(tmp_path: Path) -> None:
    rc, _, _ = _loaded_after(["no-such-command"], tmp_path)
    assert rc == 2
