"""The published schema is current, and the API honours it (schemathesis, bounded)."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brain_agent.server.openapi import render

from .conftest import make_app

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_docs_openapi_json_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/openapi.json is stale: run `python -m brain_agent.server.openapi docs/openapi.json`"
    )


def test_api_conforms_to_its_schema(db: Path) -> None:
    """Every operation, 30 generated cases each: no 5xx, responses match the declared schema."""
    app = make_app(db, check_host=False)  # schemathesis' ASGI client sends Host: testserver
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 11
    for operation in operations:

        @given(case=operation.as_strategy(), real_run=st.sampled_from([None, "run_old", "run_live"]))
        @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case, real_run: str | None) -> None:
            if real_run and case.path_parameters and "run_id" in case.path_parameters:
                case.path_parameters["run_id"] = real_run  # most generated ids are unknown: 404
            case.call_and_validate()

        check()
