"""Every float option of the CLI refuses ``inf``, ``nan`` and values past its limits with exit 2 and a
message naming the option, the limit and the value (``run-batch --pace inf`` once slept until an
OverflowError; ``--latency nan`` was "less than or equal to 3600")."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.core import TyperArgument, TyperOption

from brain_agent.cli import app, load_all, run


def _commands(cmd: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
    subs = getattr(cmd, "commands", None)
    if path and cmd.callback is not None:
        yield path, cmd
    for name, sub in (subs or {}).items():
        yield from _commands(sub, [*path, name])


def _is_float(hint: Any) -> bool:
    if hint is float:
        return True
    return float in typing.get_args(hint) and all(a in (float, type(None)) for a in typing.get_args(hint))


def float_options() -> list[tuple[list[str], str, list[str]]]:
    """(command path, option, the other required arguments) for every float-typed option."""
    load_all()
    found = []
    for path, cmd in _commands(typer.main.get_command(app), []):
        original = getattr(cmd.callback, "__wrapped__", cmd.callback)
        hints = typing.get_type_hints(original)
        required: list[str] = []
        for param in cmd.params:
            if param.required:
                required += ["1"] if isinstance(param, TyperArgument) else [param.opts[0], "1"]
        for param in cmd.params:
            if isinstance(param, TyperOption) and _is_float(hints.get(param.name or "")):
                found.append((path, param.opts[0], required))
    return found


FLOAT_OPTIONS = float_options()


def test_the_cli_has_the_float_options_we_know_of() -> None:
    names = {(" ".join(path), option) for path, option, _ in FLOAT_OPTIONS}
    assert {("run-batch", "--latency"), ("run-batch", "--pace"), ("run-batch", "--invalid-share")} <= names
    assert ("demo", "--gap") in names and ("simulate-candidates", "--sim-cache-mb") in names


@pytest.mark.parametrize("bad", ["inf", "-inf", "nan", "-1", "1e999", "soon"])
@pytest.mark.parametrize(
    ("path", "option", "required"),
    FLOAT_OPTIONS,
    ids=[f"{' '.join(p)} {o}" for p, o, _ in FLOAT_OPTIONS],
)
def test_bad_numbers_are_exit_2_naming_option_limit_and_value(
    capsys: pytest.CaptureFixture[str], path: list[str], option: str, required: list[str], bad: str
) -> None:
    code = run([*path, *required, f"{option}={bad}"])
    err = capsys.readouterr().err
    assert code == 2, err
    flat = " ".join(err.split())
    assert option in flat and repr(bad) in flat, flat
    assert "finite number" in flat and ("at least 0" in flat or "from 0 to" in flat), flat
    assert "Traceback" not in err


def test_the_latency_limit_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["run-batch", "--generate", "1", "--latency", "3600.5"]) == 2
    flat = " ".join(capsys.readouterr().err.split())
    assert "'--latency'" in flat and "from 0 to 3,600" in flat and "'3600.5'" in flat


def test_values_within_the_limits_still_work(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--latency", "0.001", "--pace", "0", "--invalid-share", "1", "--json"]
    code = run(["run-batch", "--generate", "2", "--simulate", "none", *args])
    assert code == 0, capsys.readouterr().err
