"""Login, the 0600 cookie file and its reuse, Persona, expiry and renewal, and credential hygiene."""

from __future__ import annotations

import json
import logging
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_brain import DEMO_EMAIL, DEMO_PASSWORD, FakeBrain, FakeClock, FakeConfig

from brain_agent.errors import AuthError
from brain_agent.simulation.brain import BrainSession, Credentials, load_credentials, session_path
from brain_agent.simulation.brain.credentials import SessionStore

PERSONA_PATH = "/authentication/persona"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_login_writes_a_0600_cookie_file_and_a_second_session_reuses_it(
    make_session: Callable[..., BrainSession], fake_brain: FakeBrain, session_file: Path
) -> None:
    first = make_session()
    assert first.request("GET", "/operators").status_code == 200
    assert fake_brain.logins == 1
    assert mode(session_file) == 0o600
    saved = json.loads(session_file.read_text())
    token = next(iter(fake_brain.sessions))
    assert saved["cookies"] == {"t": token}
    assert saved["base_url"] == fake_brain.url
    assert DEMO_PASSWORD not in session_file.read_text()

    second = make_session()
    assert second.request("GET", "/operators").status_code == 200
    assert fake_brain.logins == 1, "the saved cookie should have been reused"
    assert ("GET", "/authentication") in fake_brain.requests
    # the cookie was sent although the fake marks it Secure and the fake speaks plain http
    assert second.expires_at is not None


def test_a_saved_cookie_for_another_server_is_not_reused(
    make_session: Callable[..., BrainSession], fake_brain: FakeBrain, session_file: Path
) -> None:
    SessionStore(session_file).path.parent.mkdir(parents=True)
    session_file.write_text(
        json.dumps({"base_url": "https://elsewhere", "cookies": {"t": "x"}, "expires_at": None})
    )
    session_file.chmod(0o600)
    make_session().request("GET", "/operators")
    assert fake_brain.logins == 1
    assert ("GET", "/authentication") not in fake_brain.requests


def test_an_invalid_saved_cookie_leads_to_a_fresh_login(
    make_session: Callable[..., BrainSession], fake_brain: FakeBrain
) -> None:
    make_session().request("GET", "/operators")
    fake_brain.expire_sessions()
    make_session().request("GET", "/operators")
    assert fake_brain.logins == 2


def test_wrong_password_is_an_auth_error_without_the_password(
    make_session: Callable[..., BrainSession],
) -> None:
    session = make_session(credentials=lambda: Credentials(DEMO_EMAIL, "hunter2-wrong", source="test"))
    with pytest.raises(AuthError) as info:
        session.request("GET", "/operators")
    assert "401" in str(info.value)
    assert "hunter2-wrong" not in str(info.value) and DEMO_EMAIL not in str(info.value)


# -- credentials --------------------------------------------------------------------------------


def write_credentials(path: Path, file_mode: int) -> Path:
    path.write_text(json.dumps({"email": DEMO_EMAIL, "password": DEMO_PASSWORD}))
    path.chmod(file_mode)
    return path


def test_credentials_from_environment_first() -> None:
    creds = load_credentials({"BRAIN_EMAIL": DEMO_EMAIL, "BRAIN_PASSWORD": DEMO_PASSWORD})
    assert (creds.email, creds.password) == (DEMO_EMAIL, DEMO_PASSWORD)
    assert DEMO_PASSWORD not in repr(creds) and DEMO_EMAIL not in repr(creds) and DEMO_EMAIL not in str(creds)


def test_credentials_file_must_be_0600(tmp_path: Path) -> None:
    path = write_credentials(tmp_path / "credentials.json", 0o644)
    with pytest.raises(AuthError) as info:
        load_credentials({"BRAIN_CREDENTIALS_FILE": str(path)})
    message = str(info.value)
    assert str(path) in message and "0644" in message and "chmod 600" in message
    assert DEMO_PASSWORD not in message
    path.chmod(0o600)
    assert load_credentials({"BRAIN_CREDENTIALS_FILE": str(path)}).email == DEMO_EMAIL


def test_default_credentials_file_lives_in_the_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    folder = tmp_path / ".config" / "brain-agent"
    folder.mkdir(parents=True)
    with pytest.raises(AuthError, match="no BRAIN credentials"):
        load_credentials({})
    write_credentials(folder / "credentials.json", 0o600)
    assert load_credentials({}).source == str(folder / "credentials.json")
    assert session_path({}) == folder / "session.json"
    assert session_path({}, tmp_path / "db" / "x.db") == tmp_path / "db" / "brain-session.json"
    assert (
        session_path({"BRAIN_SESSION_FILE": str(tmp_path / "s.json")}, tmp_path / "x.db")
        == tmp_path / "s.json"
    )


def test_broken_credentials_file_does_not_echo_its_content(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text('{"email": "a@b.c", "password": "s3cret-value"')
    path.chmod(0o600)
    with pytest.raises(AuthError) as info:
        load_credentials({"BRAIN_CREDENTIALS_FILE": str(path)})
    assert "s3cret-value" not in str(info.value) and "not valid JSON" in str(info.value)


def test_an_insecure_session_file_is_ignored_and_rewritten_0600(
    make_session: Callable[..., BrainSession], fake_brain: FakeBrain, session_file: Path
) -> None:
    make_session().request("GET", "/operators")
    session_file.chmod(0o644)
    make_session().request("GET", "/operators")
    assert fake_brain.logins == 2
    assert mode(session_file) == 0o600


# -- Persona ------------------------------------------------------------------------------------


@pytest.fixture
def persona_config() -> FakeConfig:
    return FakeConfig(persona=True)


@pytest.mark.parametrize("fake_config", [FakeConfig(persona=True)])
def test_persona_flow_with_a_scripted_person(
    make_session: Callable[..., BrainSession], fake_brain: FakeBrain, clock: FakeClock
) -> None:
    shown: list[str] = []
    session = make_session(
        interactive_login=True, notify=shown.append, wait_for_user=fake_brain.complete_persona
    )
    assert session.request("GET", "/operators").status_code == 200
    assert f"{fake_brain.url}{PERSONA_PATH}?inquiry=" in shown[0]
    assert fake_brain.persona_posts == 1 and fake_brain.logins == 1
    assert clock.sleeps == []
    assert not [r for r in fake_brain.requests if r[0] == "GET" and r[1].startswith(PERSONA_PATH)], (
        "never GET it"
    )
    # the cookie is saved, so the next process needs neither the person nor the password
    again = make_session(credentials=lambda: pytest.fail("credentials should not be needed"))
    assert again.request("GET", "/operators").status_code == 200


@pytest.mark.parametrize("fake_config", [FakeConfig(persona=True, persona_auto_after=2)])
def test_persona_keeps_asking_with_the_sleeper_until_201(
    make_session: Callable[..., BrainSession], fake_brain: FakeBrain, clock: FakeClock
) -> None:
    session = make_session(interactive_login=True)
    session.login()
    assert fake_brain.persona_posts == 3
    assert clock.sleeps == [5.0, 5.0]


@pytest.mark.parametrize("fake_config", [FakeConfig(persona=True)])
def test_persona_gives_up_after_bounded_attempts(
    make_session: Callable[..., BrainSession], fake_brain: FakeBrain, clock: FakeClock
) -> None:
    session = make_session(interactive_login=True)
    with pytest.raises(AuthError, match="not confirmed after 5 attempts"):
        session.login()
    assert fake_brain.persona_posts == 5 and len(clock.sleeps) == 5


@pytest.mark.parametrize("fake_config", [FakeConfig(persona=True)])
def test_persona_without_interactive_login_says_what_to_do(make_session: Callable[..., BrainSession]) -> None:
    with pytest.raises(AuthError, match="--interactive-login"):
        make_session().login()


# -- expiry -------------------------------------------------------------------------------------


def test_session_expiry_mid_run_logs_in_again(
    make_session: Callable[..., BrainSession], fake_brain: FakeBrain
) -> None:
    session = make_session()
    session.request("GET", "/operators")
    fake_brain.expire_sessions()
    assert session.request("GET", "/operators").status_code == 200
    assert fake_brain.logins == 2
    assert fake_brain.requests.count(("GET", "/operators")) == 3  # ok, 401, ok


def test_session_is_renewed_before_it_expires(
    make_session: Callable[..., BrainSession], fake_brain: FakeBrain, clock: FakeClock
) -> None:
    session = make_session()
    session.request("GET", "/operators")
    clock.advance(14400 - 1000)  # under the 2000 s renewal margin, still valid on the server
    session.request("GET", "/operators")
    assert fake_brain.logins == 2
    assert fake_brain.requests.count(("GET", "/operators")) == 2, "renewed without a 401 first"


def test_a_refused_session_after_relogin_is_an_auth_error(
    make_session: Callable[..., BrainSession], fake_brain: FakeBrain
) -> None:
    session = make_session()
    session.login()
    fake_brain.inject("GET", "/operators", 401, body={"detail": "nope"}, times=2)
    with pytest.raises(AuthError, match="even after logging in again"):
        session.request("GET", "/operators")


def test_login_rate_limit_and_server_errors_are_retried(
    make_session: Callable[..., BrainSession], fake_brain: FakeBrain, clock: FakeClock
) -> None:
    fake_brain.inject("POST", "/authentication", 429, headers={"Retry-After": "7"})
    fake_brain.inject("POST", "/authentication", 503)
    make_session().login()
    assert clock.sleeps == [7.0, 4.0]  # Retry-After when given, else back-off for the 2nd failure


# -- hygiene ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fake_config", [FakeConfig(persona=True, persona_auto_after=1)])
def test_credentials_and_cookie_never_reach_logs_errors_or_reprs(
    make_session: Callable[..., BrainSession],
    fake_brain: FakeBrain,
    caplog: pytest.LogCaptureFixture,
    session_file: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    session = make_session(interactive_login=True, notify=texts.append)
    session.request("GET", "/operators")
    fake_brain.expire_sessions()
    session.request("GET", "/operators")
    token = next(t for t, (u, exp) in fake_brain.sessions.items() if exp > fake_brain.now())
    bad = make_session(credentials=lambda: Credentials(DEMO_EMAIL, "wrong-" + DEMO_PASSWORD, source="test"))
    bad._store = None  # a fresh process without the saved cookie
    with pytest.raises(AuthError) as info:
        bad.login()
    texts += [str(info.value), repr(info.value), repr(session), repr(bad), repr(SessionStore(session_file))]
    texts += [str(info.value.to_dict())]
    everything = caplog.text + "\n".join(texts)
    assert caplog.records, "the flow should have logged something"
    for secret in (DEMO_PASSWORD, DEMO_EMAIL, token):
        assert secret not in everything


def test_rate_limit_headers_slow_the_client_down(
    make_session: Callable[..., BrainSession], fake_brain: FakeBrain, clock: FakeClock
) -> None:
    session = make_session()
    fake_brain.inject("GET", "/operators", 200, body=[], headers={"x-ratelimit-remaining-second": "0"})
    fake_brain.inject("GET", "/operators", 200, body=[], headers={"x-ratelimit-remaining-minute": "1"})
    session.request("GET", "/operators")
    session.request("GET", "/operators")
    assert clock.sleeps == [1.0, 60.0]
