"""Docs that cannot drift: every command has help, and docs/cli.md matches the generated reference."""

from __future__ import annotations

from pathlib import Path

from brain_agent.cli.reference import commands, render

REPO = Path(__file__).resolve().parents[2]


def test_every_command_has_help() -> None:
    missing = [path for path, command in commands() if not (command.help or "").strip()]
    assert not missing, f"commands without help: {missing}"


def test_spec_commands_exist() -> None:
    names = {path for path, _ in commands()}
    for name in ("run-idea-agent", "build-retrieval-pack", "run-alpha-maker", "validate-expression"):
        assert name in names


def test_cli_reference_is_current() -> None:
    doc = REPO / "docs" / "cli.md"
    assert doc.read_text(encoding="utf-8") == render(), (
        "docs/cli.md is stale: run `python -m brain_agent.cli.reference > docs/cli.md`"
    )
