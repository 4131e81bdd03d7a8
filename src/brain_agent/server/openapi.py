"""Dump the server's OpenAPI schema: ``python -m brain_agent.server.openapi [OUT]`` (default stdout).

``docs/openapi.json`` is made with this; a test fails when it is stale. The schema does not depend on
the store, so a throwaway in-memory-like temp file is used.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from brain_agent.server.app import create_app
from brain_agent.server.settings import ServerSettings


def openapi_schema() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="brain-agent-openapi-") as tmp:
        app = create_app(ServerSettings(db=str(Path(tmp) / "schema.db")))
        schema = app.openapi()
        app.state.hub.store.close()
        return schema


def render() -> str:
    return json.dumps(openapi_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if args:
        Path(args[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
