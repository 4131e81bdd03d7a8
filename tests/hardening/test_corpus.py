"""The bad-input corpus: hundreds of hostile inputs to every command, generated from a few valid
documents (issue 12). Each case runs the real command and must end without a traceback and without
"internal error"; a refusal exits 2 (or another documented code) and its message names the file,
the key when one key was spoiled, and keeps any value short. Exact message texts are not asserted.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from brain_agent.errors import EXIT_REMOTE_FAILED, EXIT_SOME_FAILED, EXIT_WRITE_FAILED

from .conftest import EXAMPLE_IDEA, REPO, Outcome

PACK_DIR = REPO / "data" / "meta" / "index"
DOCUMENTED = {0, 2, 3, EXIT_WRITE_FAILED, EXIT_SOME_FAILED, EXIT_REMOTE_FAILED}
HUGE = "H" * 300_000
MAX_STDERR = 6000

# -- hostile content -------------------------------------------------------------------------------

FILE_LEVEL: dict[str, bytes] = {
    "empty": b"",
    "whitespace": b"  \n\t\n",
    "truncated": b'{"id": "x", "title": ',
    "null": b"null",
    "number": b"1",
    "string": b'"just a string"',
    "true": b"true",
    "empty-list": b"[]",
    "empty-object": b"{}",
    "list-of-numbers": b"[1, 2, 3]",
    "list-of-nulls": b"[null, null]",
    "deep-array": b"[" * 100_000 + b"]" * 100_000,
    "deep-object": b'{"a":' * 500 + b"1" + b"}" * 500,
    "nan": b'{"x": NaN}',
    "infinity": b'{"x": -Infinity}',
    "overflow-float": b'{"x": 1e999}',
    "huge-int": b'{"x": ' + b"7" * 5000 + b"}",
    "latin-1": '{"title": "café"}'.encode("latin-1"),
    "utf-16": '{"title": "x"}'.encode("utf-16"),
    "binary": bytes(range(256)),
    "markup": b'{"id": "[/]", "title": "[bold]x[/bold]", "lane": "[/b]"}',
    "control-chars": b'{"id": "a\\u0000b\\u001b[31m"}',
    "trailing-garbage": b'{"a": 1} {"b": 2}',
    "duplicate-keys": b'{"id": "a", "id": 5}',
}

VALUES: dict[str, Any] = {
    "null": None,
    "true": True,
    "minus-one": -1,
    "zero": 0,
    "float": 1.5,
    "big-float": 1e308,
    "big-int": 10**30,
    "empty-string": "",
    "huge-string": HUGE,
    "markup-string": "[/]x[bold]",
    "list": ["x"],
    "empty-list": [],
    "object": {"a": 1},
}


@dataclass
class Case:
    id: str
    command: str
    argv: Callable[[Path, Any], list[str]]
    """Builds the argument list from the case folder and the shared valid fixtures."""
    content: bytes | None = None
    file_name: str = "input.json"
    key: str | None = None
    marks: list[Any] = field(default_factory=list)


def _json(doc: Any) -> bytes:
    return json.dumps(doc).encode("utf-8")


def _top(label: str) -> str:
    """The top-level command word of a case label (``simulate-candidates-settings`` → its command)."""
    for word in COMMANDS:
        if label.startswith(word):
            return word
    raise AssertionError(label)


COMMANDS = (
    "run-idea-agent", "build-retrieval-pack", "run-alpha-maker", "estimate-prompt-cost",
    "simulate-candidates", "run-batch", "budget", "events", "validate-expression", "serve", "demo",
    "sync-knowledge-pack", "frobnicate", "version",
)  # fmt: skip


def _key_cases(command: str, base: dict[str, Any], argv: Callable[[Path, Any], list[str]]) -> list[Case]:
    out = []
    for key in base:
        for label, value in VALUES.items():
            doc = dict(base)
            doc[key] = value
            out.append(Case(f"{command}:{key}={label}", _top(command), argv, _json(doc), key=key))
    doc = dict(base)
    doc["unexpected_key"] = "x"
    out.append(Case(f"{command}:unexpected-key", _top(command), argv, _json(doc)))
    for key in base:
        doc = {k: v for k, v in base.items() if k != key}
        out.append(Case(f"{command}:missing-{key}", _top(command), argv, _json(doc)))
    return out


def _file_cases(
    command: str, argv: Callable[[Path, Any], list[str]], *, file_name: str = "input.json", **kw: Any
) -> list[Case]:
    return [
        Case(f"{command}:{file_name}:{label}", _top(command), argv, content, file_name=file_name, **kw)
        for label, content in FILE_LEVEL.items()
    ]


IDEA = json.loads(EXAMPLE_IDEA.read_text())
IDEA = IDEA[0] if isinstance(IDEA, list) else IDEA
CANDIDATE = {"candidate_id": "c1", "expression": "rank(-returns)", "idea_id": "i1", "valid": True}
SETTINGS = {"region": "USA", "universe": "TOP3000", "delay": 1, "decay": 0, "truncation": 0.08}


def _idea_agent(d: Path, fx: Any) -> list[str]:
    return [
        "run-idea-agent",
        "--llm-provider",
        "mock",
        "--input",
        d / "input.json",
        "--output",
        d / "out.json",
    ]


def _retrieval(d: Path, fx: Any) -> list[str]:
    return ["build-retrieval-pack", "--idea", d / "input.json", "--output", d / "out.json"]


def _alpha_maker(d: Path, fx: Any) -> list[str]:
    return [
        "run-alpha-maker",
        "--llm-provider",
        "mock",
        "--idea",
        fx["idea"],
        "--retrieval-pack",
        d / "input.json",
        "--output",
        d / "out.json",
    ]


def _alpha_maker_idea(d: Path, fx: Any) -> list[str]:
    return [
        "run-alpha-maker",
        "--llm-provider",
        "mock",
        "--idea",
        d / "input.json",
        "--retrieval-pack",
        fx["pack"],
        "--output",
        d / "out.json",
    ]


def _estimate(d: Path, fx: Any) -> list[str]:
    return ["estimate-prompt-cost", "--retrieval-pack", d / "input.json"]


def _simulate(d: Path, fx: Any) -> list[str]:
    return ["simulate-candidates", "--input", d / "input.json", "--output", d / "out.json"]


def _simulate_settings(d: Path, fx: Any) -> list[str]:
    return [
        "simulate-candidates",
        "--input",
        fx["candidate"],
        "--settings",
        d / "input.json",
        "--output",
        d / "out.json",
    ]


def _batch_ideas(d: Path, fx: Any) -> list[str]:
    return ["run-batch", "--ideas", d / "input.json", "--simulate", "none", "--json"]


def _budget_validate(d: Path, fx: Any) -> list[str]:
    return ["budget", "validate", d / "input.json"]


def _budget_status(d: Path, fx: Any) -> list[str]:
    return ["budget", "status", "--config", d / "input.json"]


def _pack_file(name: str) -> Callable[[Path, Any], list[str]]:
    def argv(d: Path, fx: Any) -> list[str]:
        pack = d / "pack"
        shutil.copytree(PACK_DIR, pack)
        shutil.copyfile(d / name, pack / name)
        return ["validate-expression", "rank(close)", "--knowledge-pack-dir", pack]

    return argv


def _pack_entry_cases() -> list[Case]:
    """Spoil one key of the first entry of each knowledge-pack file."""
    out = []
    for name in ("operators.json", "fields.json", "subcategories.json"):
        doc = json.loads((PACK_DIR / name).read_text())
        first = doc["items"][0]
        for key in first:
            for label in ("null", "list", "huge-string", "big-int", "markup-string"):
                spoiled = json.loads(json.dumps(doc))
                spoiled["items"][0] = {**first, key: VALUES[label]}
                out.append(
                    Case(
                        f"pack:{name}:{key}={label}",
                        "validate-expression",
                        _pack_file(name),
                        _json(spoiled),
                        name,
                    )
                )
    return out


def _config_marks(label: str) -> list[Any]:
    return []  # budget config reading goes through brain_agent.jsonio.parse_json now


def _store_cases() -> list[Case]:
    stores: dict[str, bytes] = {
        "text": b"not a database\n" * 10,
        "zeros": b"\0" * 8192,
        "sqlite-header-only": b"SQLite format 3\0" + b"\0" * 84,
        "json": b'{"a": 1}',
    }
    commands: dict[str, Callable[[Path, Any], list[str]]] = {
        "events": lambda d, fx: ["events", "export", "--run", "r", "--db", d / "store.db"],
        "budget": lambda d, fx: ["budget", "status", "--db", d / "store.db"],
        "runs": lambda d, fx: ["runs", "--db", d / "store.db"],
        "run-idea-agent": lambda d, fx: _idea_agent_db(d, fx),
        "simulate-candidates": lambda d, fx: [*_simulate_ok(d, fx), "--db", d / "store.db"],
        "estimate-prompt-cost": lambda d, fx: [
            "estimate-prompt-cost",
            "--retrieval-pack",
            fx["pack"],
            "--db",
            d / "store.db",
        ],
        "build-retrieval-pack": lambda d, fx: [
            "build-retrieval-pack",
            "--idea",
            fx["explore_idea"],
            "--output",
            d / "o.json",
            "--db",
            d / "store.db",
        ],
    }
    return [
        Case(f"store:{cmd}:{label}", cmd, argv, content, file_name="store.db")
        for cmd, argv in commands.items()
        for label, content in stores.items()
    ]


def _idea_agent_db(d: Path, fx: Any) -> list[str]:
    return ["run-idea-agent", "--input", EXAMPLE_IDEA, "--output", d / "o.json", "--db", d / "store.db"]


def _simulate_ok(d: Path, fx: Any) -> list[str]:
    return ["simulate-candidates", "--input", fx["candidate"], "--output", d / "o.json"]


def _output_cases() -> list[Case]:
    makers: dict[str, Callable[[Path], Path]] = {
        "folder": lambda d: d,
        "fifo": lambda d: _fifo(d / "fifo"),
        "under-a-file": lambda d: _plain(d / "plain") / "out.json",
        "symlink-loop": lambda d: _loop(d),
        "empty-name": lambda d: Path(""),
    }
    commands: dict[str, Callable[[Path, Any, Path], list[str]]] = {
        "run-idea-agent": lambda d, fx, o: ["run-idea-agent", "--input", EXAMPLE_IDEA, "--output", o],
        "build-retrieval-pack": lambda d, fx, o: [
            "build-retrieval-pack",
            "--idea",
            fx["idea"],
            "--output",
            o,
        ],
        "run-alpha-maker": lambda d, fx, o: [
            "run-alpha-maker",
            "--idea",
            fx["idea"],
            "--retrieval-pack",
            fx["pack"],
            "--output",
            o,
        ],
        "simulate-candidates": lambda d, fx, o: [
            "simulate-candidates",
            "--input",
            fx["candidate"],
            "--output",
            o,
        ],
        "budget": lambda d, fx, o: ["budget", "schema", "--output", o],
        "events": lambda d, fx, o: ["events", "export", "--run", fx["run_id"], "--output", o],
        "runs": lambda d, fx, o: ["runs", "show", fx["run_id"], "--plot", o],
    }
    out = []
    for cmd, build in commands.items():
        for label, make in makers.items():

            def argv(d: Path, fx: Any, build: Any = build, make: Any = make) -> list[str]:
                return build(d, fx, make(d))

            out.append(Case(f"output:{cmd}:{label}", cmd, argv))
    return out


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _plain(path: Path) -> Path:
    path.write_text("x")
    return path


def _loop(d: Path) -> Path:
    (d / "a").symlink_to(d / "b")
    (d / "b").symlink_to(d / "a")
    return d / "a"


def _option_cases() -> list[Case]:
    """Bad option values; the message names the option (checked as the key)."""
    rows: list[tuple[str, list[str], str]] = [
        ("db-mysql-url", ["budget", "status", "--db", "mysql://u@h/x"], "--db"),
        ("db-http-url", ["runs", "--db", "http://example.invalid/x"], "--db"),
        ("db-empty-postgres-url", ["events", "export", "--run", "r", "--db", "postgresql://"], "--db"),
        ("seed-text", ["run-idea-agent", "--input", "IDEA", "--output", "OUT", "--seed", "abc"], "--seed"),
        (
            "max-tokens-0",
            [
                "run-alpha-maker",
                "--idea",
                "IDEA",
                "--retrieval-pack",
                "PACK",
                "--output",
                "OUT",
                "--max-tokens",
                "0",
            ],
            "--max-tokens",
        ),
        (
            "operator-level",
            ["build-retrieval-pack", "--idea", "IDEA", "--output", "OUT", "--operator-level", "[/]wizard"],
            "operator-level",
        ),
        (
            "idea-id-markup",
            ["build-retrieval-pack", "--idea", "IDEA", "--output", "OUT", "--idea-id", "a[/]b"],
            "a[/]b",
        ),
        (
            "idea-id-huge",
            ["build-retrieval-pack", "--idea", "IDEA", "--output", "OUT", "--idea-id", HUGE[:100_000]],
            "idea",
        ),
        (
            "backend",
            ["simulate-candidates", "--input", "CAND", "--output", "OUT", "--backend", "quantum"],
            "backend",
        ),
        (
            "interactive-local",
            ["simulate-candidates", "--input", "CAND", "--output", "OUT", "--interactive-login"],
            "--backend",
        ),
        (
            "provider",
            ["run-idea-agent", "--input", "IDEA", "--output", "OUT", "--llm-provider", "[/]nope"],
            "nope",
        ),
        ("run-markup", ["events", "export", "--run", "[/]"], "[/]"),
        ("run-huge", ["events", "export", "--run", HUGE[:100_000]], "run"),
        ("validate-both", ["validate-expression", "rank(close)", "--file", "IDEA"], "--file"),
        ("validate-neither", ["validate-expression"], "--file"),
        (
            "validate-pack-missing",
            ["validate-expression", "rank(close)", "--knowledge-pack-dir", "MISSING"],
            "missing.json",
        ),
        ("serve-host", ["serve", "--host", "0.0.0.0"], "token"),
        ("serve-port", ["serve", "--port", "-1"], "--port"),
        ("serve-port-text", ["serve", "--port", "http"], "--port"),
        ("serve-log-level", ["serve", "--log-level", "[/]loud"], "log-level"),
        ("demo-batches", ["demo", "--batches", "many"], "--batches"),
        ("sync-url", ["sync-knowledge-pack", "--brain-url", "ftp://example.invalid"], "URL"),
        (
            "sync-url-password",
            ["sync-knowledge-pack", "--brain-url", "http://u:pw@127.0.0.1:9"],
            "credentials",
        ),
        ("sync-url-port", ["sync-knowledge-pack", "--brain-url", "http://127.0.0.1:notaport"], "URL"),
        ("sync-delay", ["sync-knowledge-pack", "--delay", "soon"], "--delay"),
        ("batch-generate-0", ["run-batch", "--generate", "0"], "--generate"),
        ("batch-latency-inf", ["run-batch", "--generate", "1", "--latency", "inf"], "3,600"),
        ("batch-latency-nan", ["run-batch", "--generate", "1", "--latency", "nan"], "--latency"),
        ("batch-pace-inf", ["run-batch", "--generate", "1", "--pace", "inf"], "--pace"),
        ("batch-invalid-share-2", ["run-batch", "--generate", "1", "--invalid-share", "2"], "from 0 to 1"),
        ("demo-gap-nan", ["demo", "--gap", "nan"], "--gap"),
        (
            "idea-agent-latency-inf",
            ["run-idea-agent", "--input", "IDEA", "--output", "OUT", "--latency", "inf"],
            "--latency",
        ),
        ("batch-ideas-missing", ["run-batch", "--ideas", "MISSING"], "missing.json"),
        ("estimate-missing", ["estimate-prompt-cost", "--retrieval-pack", "MISSING"], "missing.json"),
        ("budget-validate-missing", ["budget", "validate", "MISSING"], "missing.json"),
        ("budget-status-missing", ["budget", "status", "--config", "MISSING"], "missing.json"),
        ("unknown-command", ["frobnicate"], "frobnicate"),
        ("long-input", ["run-idea-agent", "--input", "LONG", "--output", "OUT"], "too long"),
        ("long-output", ["budget", "schema", "--output", "LONG"], "too long"),
        ("long-db", ["events", "export", "--run", "x", "--db", "LONG"], "too long"),
        ("long-file", ["validate-expression", "--file", "LONG"], "too long"),
        ("long-pack", ["validate-expression", "x", "--knowledge-pack-dir", "LONG"], "too long"),
        ("long-candidates", ["simulate-candidates", "--input", "LONG", "--output", "OUT"], "too long"),
        ("long-retrieval", ["estimate-prompt-cost", "--retrieval-pack", "LONG"], "too long"),
        ("long-config", ["budget", "status", "--config", "LONG"], "nnnnnnnn"),
        ("unknown-command-huge", ["f" * 100_000], "No such command"),
        (
            "option-value-huge",
            ["run-idea-agent", "--input", "IDEA", "--output", "OUT", "--seed", "9x" * 50_000],
            "--seed",
        ),
        ("unknown-option", ["version", "--frobnicate"], "--frobnicate"),
        (
            "simulate-brain-url-password",
            [
                "simulate-candidates",
                "--input",
                "CAND",
                "--output",
                "OUT",
                "--backend",
                "brain",
                "--brain-url",
                "http://me:pw@127.0.0.1:9",
            ],
            "credentials",
        ),
    ]

    def argv_for(words: list[str]) -> Callable[[Path, Any], list[str]]:
        def argv(d: Path, fx: Any) -> list[str]:
            table = {
                "IDEA": fx["idea"],
                "PACK": fx["pack"],
                "CAND": fx["candidate"],
                "OUT": d / "out.json",
                "MISSING": d / "missing.json",
                "LONG": d / ("n" * 5000),
            }
            return [table.get(w, w) for w in words]

        return argv

    return [Case(f"option:{label}", words[0], argv_for(words), key=key) for label, words, key in rows]


def all_cases() -> list[Case]:
    cases: list[Case] = []
    cases += _key_cases("run-idea-agent", IDEA, _idea_agent)
    cases += _file_cases("run-idea-agent", _idea_agent)
    cases += _key_cases("build-retrieval-pack", IDEA, _retrieval)
    cases += _file_cases("build-retrieval-pack", _retrieval)
    cases += _file_cases("run-alpha-maker", _alpha_maker)
    cases += _file_cases("run-alpha-maker", _alpha_maker_idea)
    cases += _file_cases("estimate-prompt-cost", _estimate)
    cases += _key_cases("simulate-candidates", CANDIDATE, _simulate)
    cases += _file_cases("simulate-candidates", _simulate)
    cases += _key_cases("simulate-candidates-settings", SETTINGS, _simulate_settings)
    cases += _file_cases("simulate-candidates-settings", _simulate_settings)
    cases += _file_cases("run-batch", _batch_ideas)
    for case in _file_cases("budget-validate", _budget_validate) + _file_cases(
        "budget-status", _budget_status
    ):
        case.marks = _config_marks(case.id.rsplit(":", 1)[1])
        cases.append(case)
    for name in ("operators.json", "fields.json", "subcategories.json"):
        cases += _file_cases("validate-expression", _pack_file(name), file_name=name)
    cases += _pack_entry_cases()
    cases += _store_cases()
    cases += _output_cases()
    cases += _option_cases()
    return cases


CASES = all_cases()


# -- fixtures and the test ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Valid inputs made once by the real commands: an idea, its pack, a candidate, a run."""
    from brain_agent.cli import run
    from brain_agent.storage import SQLiteStore

    d = tmp_path_factory.mktemp("valid")
    os.environ["BRAIN_AGENT_DB"] = str(d / "fixtures.db")
    try:
        idea, pack = d / "idea.json", d / "pack.json"
        assert run(["run-idea-agent", "--input", str(EXAMPLE_IDEA), "--output", str(idea)]) == 0
        assert run(["build-retrieval-pack", "--idea", str(idea), "--output", str(pack)]) == 0
        explore = d / "explore.json"
        explore.write_text(json.dumps({**json.loads(idea.read_text()), "lane": "explore"}))
        candidate = d / "candidate.json"
        candidate.write_text(json.dumps([CANDIDATE]))
        store = SQLiteStore(d / "fixtures.db")
        run_id = store.create_run("fixture")
        store.append_event(run_id, "fixture.event", {"i": 1})
        store.close()
    finally:
        del os.environ["BRAIN_AGENT_DB"]
    return {"idea": idea, "pack": pack, "candidate": candidate, "run_id": run_id, "explore_idea": explore}


def _params() -> list[Any]:
    return [pytest.param(case, id=case.id[:120], marks=case.marks) for case in CASES]


@pytest.mark.parametrize("case", _params())
def test_bad_input(
    case: Case, cli: Any, valid: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRAIN_AGENT_DB", str(valid["idea"].parent / "fixtures.db"))
    target = tmp_path / case.file_name
    if case.content is not None:
        target.write_bytes(case.content)  # a hostile store comes with its own --db
        monkeypatch.setenv("BRAIN_AGENT_DB", str(tmp_path / "fresh.db"))
    r: Outcome = cli(*case.argv(tmp_path, valid))
    text = r.out + r.err
    assert "Traceback" not in text, text[-3000:]
    assert "internal error" not in r.err, r.err[-3000:]
    assert r.code in DOCUMENTED, (r.code, r.err[-2000:])
    assert len(r.err) < MAX_STDERR, f"{len(r.err)} characters on stderr: {r.err[:300]}"
    if r.code == 0:
        return
    assert r.err.strip(), "a refusal with nothing on stderr"
    if case.content is not None and r.code == 2:  # the spoiled file, or the file it points to
        assert str(tmp_path) in r.flat_err or case.file_name in r.flat_err, r.err[-1500:]
    if case.key is not None and r.code == 2:
        assert case.key in r.err, r.err[-1500:]


def test_the_corpus_is_big_and_covers_every_command() -> None:
    from brain_agent.cli.reference import commands

    assert len(CASES) >= 300, len(CASES)
    tops = {path.split()[0] for path, _ in commands()}
    assert tops - {"version"} <= {case.command for case in CASES}, tops - {case.command for case in CASES}
