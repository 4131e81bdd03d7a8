"""Command: validate-expression — check expressions by hand or in bulk.

Bulk checking streams: the file is read a line at a time and each result is written as soon as it is
known, with plain writes (no rich rendering per line), so memory stays flat whatever the file's size
and 20,000 expressions take seconds, not minutes.
"""

from __future__ import annotations

import codecs
import json
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from brain_agent.cli.app import app, out_console, styled
from brain_agent.errors import InputError, clip
from brain_agent.expression import check
from brain_agent.jsonio import probe
from brain_agent.knowledge import KnowledgePack, load_knowledge_pack
from brain_agent.settings import default_knowledge_pack_dir


def _check_file(file: Path) -> None:
    """Refuse a missing file, a folder or bytes that are not UTF-8 before any result is written
    (one pass in 1 MiB chunks: the file is never held whole)."""
    st = probe(file, "expression file")
    if st is None:
        raise InputError(f"{file}: expression file does not exist", file=str(file))
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{file}: expression file is not a regular file", file=str(file))
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    try:
        with file.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    line += chunk[: exc.start].count(b"\n")
                    raise InputError(f"{file}:{line}: the file is not UTF-8 text", file=str(file)) from None
                line += chunk.count(b"\n")
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise InputError(f"{file}:{line}: the file ends inside a UTF-8 character", file=str(file)) from None
    except OSError as exc:
        raise InputError(f"{file}: cannot read: {exc.strerror or exc}", file=str(file)) from None


def _lines(file: Path) -> Iterator[tuple[str, str]]:
    """``(where, expression)`` for each non-blank, non-comment line, read lazily."""
    try:
        with file.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                text = line.strip()
                if text and not text.startswith("#"):
                    yield f"{file}:{number}", text
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{file}: cannot read: {exc}", file=str(file)) from None


def _result(where: str, text: str, knowledge: KnowledgePack) -> dict[str, Any]:
    result = check(text, knowledge)
    return {
        "where": where,
        "expression": text,
        "ok": result.ok,
        "errors": [d.to_dict() for d in result.diagnostics],
    }


def _write_text(out: TextIO, r: dict[str, Any], styled_output: bool) -> None:
    mark = "ok  " if r["ok"] else "FAIL"
    if styled_output:
        out_console.print(styled(mark, "green" if r["ok"] else "red", f" {r['where']}: {r['expression']}"))
    else:
        out.write(f"{mark} {r['where']}: {r['expression']}\n")
    for e in r["errors"]:
        loc = e.get("location") or {}
        line = f"     {e['code']} at {loc.get('start')}..{loc.get('end')}: {clip(e['message'], 2000)}"
        if styled_output:
            out_console.print(line)
        else:
            out.write(line + "\n")


@app.command("validate-expression")
def validate_expression(
    expression: Annotated[str | None, typer.Argument(help="A Fast Expression (or use --file).")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="One expression per line ('#' comments).")
    ] = None,
    knowledge_pack_dir: Annotated[
        Path | None,
        typer.Option("--knowledge-pack-dir", help="Knowledge pack folder (default: data/meta/index)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
) -> None:
    """Parse and validate expressions; exit 0 if all are valid, 2 if any is not."""
    if (expression is None) == (file is None):
        raise InputError("give either an EXPRESSION argument or --file, not both and not neither")
    if file is not None:
        _check_file(file)
    knowledge = load_knowledge_pack(
        knowledge_pack_dir if knowledge_pack_dir is not None else default_knowledge_pack_dir()
    )
    items = _lines(file) if file is not None else iter([("argument", expression or "")])
    out = sys.stdout
    styled_output = not as_json and out_console.is_terminal
    bad = 0
    first = True
    if as_json:
        out.write("[")
    for where, text in items:
        r = _result(where, text, knowledge)
        bad += not r["ok"]
        if as_json:
            out.write(("\n  " if first else ",\n  ") + json.dumps(r, ensure_ascii=False))
        else:
            _write_text(out, r, styled_output)
        first = False
    if as_json:
        out.write("\n]\n" if not first else "]\n")
    out.flush()
    if bad:
        raise typer.Exit(2)
