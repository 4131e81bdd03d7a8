"""Fixtures for the BRAIN client tests: a fake clock, the fake BRAIN server, session factories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_brain import DEMO_EMAIL, DEMO_PASSWORD, FakeBrain, FakeClock, FakeConfig

from brain_agent.simulation.brain import BrainBackend, BrainSession, Credentials, RetryPolicy, SessionStore


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake_config() -> FakeConfig:
    """Override in a test module (or mutate before the server is used) to change the fake's behaviour."""
    return FakeConfig()


@pytest.fixture
def fake_brain(fake_config: FakeConfig, clock: FakeClock) -> Iterator[FakeBrain]:
    """A fake BRAIN on 127.0.0.1 whose notion of time follows the fake clock."""
    with FakeBrain(fake_config, now=clock.timestamp) as fake:
        yield fake


@pytest.fixture
def policy() -> RetryPolicy:
    return RetryPolicy(jitter=0.0, persona_attempts=5)


@pytest.fixture
def session_file(tmp_path: Path) -> Path:
    return tmp_path / "cfg" / "session.json"


@pytest.fixture
def make_session(
    fake_brain: FakeBrain, clock: FakeClock, policy: RetryPolicy, session_file: Path
) -> Iterator[Callable[..., BrainSession]]:
    made: list[BrainSession] = []

    def make(**overrides: Any) -> BrainSession:
        kwargs: dict[str, Any] = {
            "credentials": lambda: Credentials(DEMO_EMAIL, DEMO_PASSWORD, source="test"),
            "store": SessionStore(session_file),
            "clock": clock,
            "policy": policy,
            "notify": lambda message: None,
        }
        kwargs.update(overrides)
        session = BrainSession(fake_brain.url, **kwargs)
        made.append(session)
        return session

    yield make
    for session in made:
        session.close()


@pytest.fixture
def make_backend(make_session: Callable[..., BrainSession]) -> Callable[..., BrainBackend]:
    def make(**overrides: Any) -> BrainBackend:
        window = overrides.pop("window", None)
        fetch_pnl = overrides.pop("fetch_pnl", True)
        return BrainBackend(make_session(**overrides), window=window, fetch_pnl=fetch_pnl)

    return make
