"""BrainBackend against the fake BRAIN: single and multi simulations, Retry-After, resume, limits."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fake_brain import SETTINGS_KEYS, FakeBrain, FakeClock, FakeConfig

from brain_agent.errors import InputError, ProviderError
from brain_agent.simulation.backend import SimulationBackend, SimulationJob, SimulationSettings
from brain_agent.simulation.brain import BrainBackend, ConcurrencyWindow, DailyLimitError, Handle, RetryPolicy

Make = Callable[..., BrainBackend]


def job(cid: str, expression: str, **settings: object) -> SimulationJob:
    return SimulationJob(candidate_id=cid, expression=expression, settings=SimulationSettings(**settings))  # type: ignore[arg-type]


def test_brain_backend_is_a_simulation_backend(make_backend: Make) -> None:
    backend = make_backend()
    assert isinstance(backend, SimulationBackend)
    assert (backend.name, backend.max_batch) == ("brain", 10)


def test_single_simulation_returns_the_alpha_record_and_pnl(
    make_backend: Make, fake_brain: FakeBrain, clock: FakeClock
) -> None:
    backend = make_backend()
    [handle] = backend.submit([job("c1", "rank(-ts_delta(close, 5))")])
    body = fake_brain.bodies[0]
    assert (
        isinstance(body, dict)
        and body["type"] == "REGULAR"
        and body["regular"] == "rank(-ts_delta(close, 5))"
    )
    assert set(body["settings"]) == set(SETTINGS_KEYS)

    first = backend.poll(handle)
    assert not first.done and first.retry_after_s == 5.0 and first.progress is not None
    [outcome] = backend.wait([handle])
    assert outcome.status == "COMPLETE" and outcome.candidate_id == "c1"
    assert outcome.result is not None and outcome.alpha_id == outcome.result["id"]
    result = outcome.result
    assert result == {**fake_brain.alphas[result["id"]], "pnl": result["pnl"]}
    assert {"sharpe", "fitness", "turnover", "returns", "drawdown", "margin", "checks"} <= set(result["is"])
    assert result["pnl"]["dates"][0] == "2019-01-01" and len(result["pnl"]["dates"]) == len(
        result["pnl"]["values"]
    )
    assert all(isinstance(v, float) for v in result["pnl"]["values"])
    assert clock.sleeps == [5.0, 5.0], "two 'running' answers, each with Retry-After 5.0"


@pytest.mark.parametrize("fake_config", [FakeConfig(retry_after="60.0", polls_to_complete=3)])
def test_slow_retry_after_is_honoured(make_backend: Make, fake_brain: FakeBrain, clock: FakeClock) -> None:
    backend = make_backend()
    handles = backend.submit([job("c1", "rank(close)")])
    [outcome] = backend.wait(handles)
    assert outcome.status == "COMPLETE"
    assert clock.sleeps == [60.0, 60.0, 60.0]


@pytest.mark.parametrize("fake_config", [FakeConfig(alpha_pending_polls=2, recordset_pending_polls=1)])
def test_alpha_and_recordset_retry_after_are_slept_through_the_clock(
    make_backend: Make, fake_brain: FakeBrain, clock: FakeClock
) -> None:
    backend = make_backend()
    fake_brain.finish_all()
    [handle] = backend.submit([job("c1", "rank(close)")])
    fake_brain.finish_all()
    [outcome] = backend.wait([handle])
    assert outcome.status == "COMPLETE"
    assert clock.sleeps == [1.0, 1.0, 2.0]


def test_multi_simulation_posts_one_list_and_maps_children(make_backend: Make, fake_brain: FakeBrain) -> None:
    backend = make_backend()
    exprs = ["rank(close)", "rank(-returns)", "zscore(ts_mean(volume, 20))"]
    handles = backend.submit([job(f"c{i}", e) for i, e in enumerate(exprs)])
    assert len(fake_brain.bodies) == 1 and isinstance(fake_brain.bodies[0], list)
    assert [b["regular"] for b in fake_brain.bodies[0]] == exprs
    assert [Handle.decode(h).child for h in handles] == [0, 1, 2]
    outcomes = backend.wait(handles)
    assert [o.candidate_id for o in outcomes] == ["c0", "c1", "c2"]
    assert all(o.status == "COMPLETE" for o in outcomes)
    assert [o.result["regular"]["code"] for o in outcomes if o.result] == exprs
    parent_gets = [r for r in fake_brain.requests if r[0] == "GET" and r[1].startswith("/simulations/S")]
    assert len(parent_gets) == 3, "children share the parent's polls (2 running + 1 done)"


@pytest.mark.parametrize("fake_config", [FakeConfig(reverse_children=True)])
def test_children_are_matched_by_expression_when_order_differs(make_backend: Make) -> None:
    backend = make_backend()
    exprs = ["rank(close)", "rank(open)"]
    outcomes = backend.wait(backend.submit([job("a", exprs[0]), job("b", exprs[1])]))
    assert [o.result["regular"]["code"] for o in outcomes if o.result] == exprs


def test_mixed_regions_are_split_into_separate_simulations(make_backend: Make, fake_brain: FakeBrain) -> None:
    backend = make_backend()
    handles = backend.submit(
        [
            job("a", "rank(close)"),
            job("b", "rank(close)", region="EUR", universe="TOP2500"),
            job("c", "rank(open)"),
        ]
    )
    assert [type(b).__name__ for b in fake_brain.bodies] == ["list", "dict"]
    assert [Handle.decode(h).child for h in handles] == [0, None, 1]


def test_more_than_ten_jobs_is_a_usage_error(make_backend: Make) -> None:
    with pytest.raises(InputError, match="at most 10"):
        make_backend().submit([job(f"c{i}", "rank(close)") for i in range(11)])


def test_expression_error_maps_to_the_repair_loop_input(make_backend: Make) -> None:
    backend = make_backend()
    [outcome] = backend.wait(backend.submit([job("c1", "rank(this_field_does_not_exist_abc123)")]))
    assert outcome.status == "ERROR" and outcome.result is None
    assert outcome.error == {
        "code": "BRAIN_EXPRESSION_ERROR",
        "message": 'Attempted to use unknown variable "this_field_does_not_exist_abc123"',
        "location": {"line": 1, "start": 5, "end": 37, "property": "regular"},
    }


def test_one_bad_expression_fails_its_child_and_cancels_the_siblings(make_backend: Make) -> None:
    backend = make_backend()
    outcomes = backend.wait(backend.submit([job("ok", "rank(close)"), job("bad", "rank(close")]))
    assert outcomes[1].error is not None and outcomes[1].error["code"] == "BRAIN_EXPRESSION_ERROR"
    assert outcomes[1].error["message"] == "Unexpected end of input"
    assert outcomes[0].error is not None and outcomes[0].error["code"] == "BRAIN_CANCELLED"


def test_a_rejected_item_gets_an_error_and_the_rest_is_resubmitted(
    make_backend: Make, fake_brain: FakeBrain
) -> None:
    backend = make_backend()
    jobs = [job("a", "rank(close)"), job("b", "rank(open)", testPeriod="bogus"), job("c", "rank(high)")]
    outcomes = backend.wait(backend.submit(jobs))
    assert [o.status for o in outcomes] == ["COMPLETE", "ERROR", "COMPLETE"]
    assert outcomes[1].error is not None and outcomes[1].error["code"] == "BRAIN_REJECTED"
    assert 'settings.testPeriod: "bogus" is not a valid period.' in outcomes[1].error["message"]
    assert [len(b) for b in fake_brain.bodies] == [3, 2]


@pytest.mark.parametrize("fake_config", [FakeConfig(multi_allowed=False)])
def test_without_multi_simulation_permission_jobs_go_one_by_one(
    make_backend: Make, fake_brain: FakeBrain
) -> None:
    backend = make_backend()
    outcomes = backend.wait(backend.submit([job("a", "rank(close)"), job("b", "rank(open)")]))
    assert [o.status for o in outcomes] == ["COMPLETE", "COMPLETE"]
    assert [type(b).__name__ for b in fake_brain.bodies] == ["list", "dict", "dict"]


def test_handles_resume_in_a_fresh_backend(make_backend: Make, fake_brain: FakeBrain) -> None:
    first = make_backend()
    handles = first.submit([job("a", "rank(close)"), job("b", "rank(open)")]) + first.submit(
        [job("c", "rank(low)")]
    )
    first.close()
    json.dumps(handles)  # plain strings, storable as they are
    fresh = make_backend()
    outcomes = fresh.wait(handles)
    assert [(o.candidate_id, o.status) for o in outcomes] == [
        ("a", "COMPLETE"),
        ("b", "COMPLETE"),
        ("c", "COMPLETE"),
    ]
    assert len(fake_brain.bodies) == 2, "resuming never submits again"
    assert fake_brain.logins == 1, "the fresh backend reused the saved session"


def test_handles_never_point_at_another_host(make_backend: Make) -> None:
    [handle] = make_backend().submit([job("a", "rank(close)")])
    assert Handle.decode(handle).location is not None
    assert "127.0.0.1" not in handle
    with pytest.raises(InputError):
        Handle.decode("local:123")


# -- limits ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fake_config", [FakeConfig(max_concurrent=2, polls_to_complete=2)])
def test_concurrency_429_shrinks_the_window_and_waits_for_a_slot(
    make_backend: Make, fake_brain: FakeBrain, clock: FakeClock
) -> None:
    backend = make_backend(window=ConcurrencyWindow(ceiling=8))
    handles = [backend.submit([job(f"c{i}", f"ts_mean(close, {i + 2})")])[0] for i in range(3)]
    assert backend.window.limit == 2, "halved to 1 by the 429 (2 in flight), +1 when the retry was accepted"
    assert fake_brain.requests.count(("POST", "/simulations")) == 4  # 2 ok, 1 refused, 1 ok
    assert fake_brain.in_flight() <= 2
    assert clock.sleeps and all(s == 5.0 for s in clock.sleeps), "waited on the in-flight Retry-After"
    outcomes = backend.wait(handles)
    assert all(o.status == "COMPLETE" for o in outcomes)


def test_window_grows_back_additively(make_backend: Make) -> None:
    window = ConcurrencyWindow(ceiling=8)
    window.on_limit(8)
    assert window.limit == 4
    for _ in range(4):
        window.on_success()
    assert window.limit == 4, "about +1 per window's worth of successes"
    window.on_success()
    assert window.limit == 5
    for _ in range(100):
        window.on_success()
    assert window.limit == 8
    window.on_limit(1)
    assert window.limit == 1


@pytest.mark.parametrize("fake_config", [FakeConfig(daily_limit=0)])
def test_daily_limit_stops_until_new_york_midnight(
    make_backend: Make, fake_brain: FakeBrain, clock: FakeClock
) -> None:
    shown: list[str] = []
    backend = make_backend(notify=shown.append)
    clock.on_sleep = lambda s: setattr(fake_brain.config, "daily_limit", None)  # the quota resets overnight
    [handle] = backend.submit([job("a", "rank(close)")])
    # 2026-03-07 15:30 UTC = 10:30 EST; midnight New York = 2026-03-08 05:00 UTC: 13 h 30 min
    assert clock.sleeps[0] == 13.5 * 3600 + 60
    assert "midnight New York time (2026-03-08 00:00 EST), 13h30m" in shown[0]
    assert backend.wait([handle])[0].status == "COMPLETE"


@pytest.mark.parametrize("fake_config", [FakeConfig(daily_limit=0)])
def test_daily_limit_can_stop_instead_of_waiting(make_backend: Make, clock: FakeClock) -> None:
    backend = make_backend(policy=RetryPolicy(jitter=0.0, daily_limit="stop"))
    clock.current = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)  # 08:00 EDT, the day clocks spring forward
    with pytest.raises(DailyLimitError) as info:
        backend.submit([job("a", "rank(close)")])
    assert info.value.resume_at == datetime(2026, 3, 9, 4, 0, tzinfo=UTC)
    assert "2026-03-09 00:00 EDT" in str(info.value) and "16h00m" in str(info.value)
    assert clock.sleeps == []


def test_server_errors_are_retried_with_backoff(
    make_backend: Make, fake_brain: FakeBrain, clock: FakeClock
) -> None:
    fake_brain.inject("POST", "/simulations", 503, times=2)
    fake_brain.inject("GET", "/alphas/", 502, headers={"Retry-After": "3"})
    backend = make_backend()
    handles = backend.submit([job("a", "rank(close)")])
    assert clock.sleeps == [2.0, 4.0]
    assert backend.wait(handles)[0].status == "COMPLETE"
    assert 3.0 in clock.sleeps


def test_exhausted_retries_are_a_provider_error(
    make_backend: Make, fake_brain: FakeBrain, clock: FakeClock
) -> None:
    fake_brain.inject("POST", "/simulations", 500, times=5)
    with pytest.raises(ProviderError, match=r"POST /simulations: server error 500 after 5 attempts"):
        make_backend().submit([job("a", "rank(close)")])
    assert clock.sleeps == [2.0, 4.0, 8.0, 16.0]


def test_network_errors_are_retried_then_a_provider_error(make_backend: Make, clock: FakeClock) -> None:
    from brain_agent.simulation.brain import BrainSession, Credentials

    session = BrainSession(
        "http://127.0.0.1:9",
        credentials=lambda: Credentials("a@b.c", "pw", "test"),
        clock=clock,
        policy=RetryPolicy(jitter=0.0, max_retries=2),
    )
    with session, pytest.raises(ProviderError, match="cannot reach"):
        session.login()
    assert clock.sleeps == [2.0, 4.0]


def test_results_validate_against_the_result_model(make_backend: Make) -> None:
    if importlib.util.find_spec("brain_agent.simulation.result") is None:
        pytest.skip("brain_agent.simulation.result is not written yet")
    from brain_agent.simulation import result as result_module

    backend = make_backend()
    [outcome] = backend.wait(backend.submit([job("a", "rank(close)")]))
    result_module.AlphaResult.model_validate(outcome.result)
