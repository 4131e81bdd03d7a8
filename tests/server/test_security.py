"""Secure by default: loopback bind, token off loopback, token checks, Host check."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse

from brain_agent.cli import run
from brain_agent.errors import ConfigError
from brain_agent.server import ServerSettings

from .conftest import BASE, WS_BASE, make_app

TOKEN = "s3cret-token"


def test_defaults_bind_loopback() -> None:
    settings = ServerSettings(db=Path("x.db"))
    assert settings.host == "127.0.0.1" and settings.loopback and settings.token is None


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "example.com"])
def test_off_loopback_without_token_is_refused(host: str) -> None:
    with pytest.raises(ConfigError, match="token is required"):
        ServerSettings(db=Path("x.db"), host=host)
    assert ServerSettings(db=Path("x.db"), host=host, token=TOKEN).token == TOKEN


def test_serve_refuses_to_start_off_loopback_without_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["serve", "--host", "0.0.0.0", "--db", str(tmp_path / "s.db")]) == 2
    assert "token is required" in capsys.readouterr().err


def test_token_required_on_api_when_set(db: Path) -> None:
    with TestClient(make_app(db, token=TOKEN), base_url=BASE) as c:
        denied = c.get("/api/runs")
        assert denied.status_code == 401 and denied.json()["error"]["code"] == "auth_error"
        assert denied.headers["www-authenticate"] == "Bearer"
        assert TOKEN not in denied.text
        assert c.get("/api/runs", headers={"Authorization": "Bearer wrong-token"}).status_code == 401
        assert c.get("/api/runs", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert c.get("/api/runs", params={"token": TOKEN}).status_code == 200
        assert c.get("/api/health").status_code == 200  # liveness stays open
        with (
            pytest.raises(WebSocketDenialResponse) as info,
            c.websocket_connect(f"{WS_BASE}/api/runs/run_old/stream"),
        ):
            pass  # pragma: no cover
        assert info.value.status_code == 401
        with c.websocket_connect(f"{WS_BASE}/api/runs/run_old/stream?token={TOKEN}") as ws:
            assert ws.receive_json()["type"] == "snapshot"


def test_loopback_bind_refuses_foreign_host_header(client: TestClient) -> None:
    response = client.get("/api/runs", headers={"host": "attacker.example"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_host"
    assert client.get("http://localhost:8765/api/runs").status_code == 200
