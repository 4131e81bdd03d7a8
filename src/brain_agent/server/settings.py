"""Server settings: validated once, when the app is made. Unsafe combinations are refused."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from brain_agent.errors import ConfigError

ENV_TOKEN = "BRAIN_AGENT_TOKEN"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class ServerSettings(BaseModel):
    """Everything ``create_app`` needs. ``token`` is required when ``host`` is not a loopback address."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    db: str = Field(description="The store the pipeline writes: a SQLite file or a postgresql:// URL.")

    @field_validator("db", mode="before")
    @classmethod
    def _location(cls, value: object) -> object:
        return str(value) if isinstance(value, Path) else value

    host: str = Field(
        default="127.0.0.1", description="Bind address; anything but loopback requires a token."
    )
    port: int = Field(default=8765, ge=0, le=65535)
    token: str | None = Field(default=None, description="Bearer token checked on /api (except /api/health).")
    allowed_origins: tuple[str, ...] = Field(
        default=(), description="Extra WebSocket origins, e.g. http://localhost:3000."
    )
    web_dir: Path | None = Field(
        default=None, description="The built HUD (web/out); a help page when missing."
    )
    check_host: bool = Field(
        default=True, description="On loopback binds, refuse requests whose Host is not loopback."
    )
    poll_interval_s: float = Field(
        default=0.025, gt=0, le=5, description="How often the poller tails the events table."
    )
    stream_interval_s: float = Field(
        default=0.05, ge=0, le=5, description="Minimum gap between two stream messages."
    )
    checkpoint_every: int = Field(
        default=1000, ge=100, description="Run events between two stored checkpoints of the view."
    )
    heartbeat_s: float = Field(
        default=1.0, gt=0, le=60, description="Refresh a running run's status this often when idle."
    )
    reap_every_s: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="Mark runs whose process is gone interrupted this often (and at start).",
    )

    @model_validator(mode="after")
    def _token_off_loopback(self) -> ServerSettings:
        if self.token is not None and len(self.token) < 8:
            raise ConfigError("server token: must be at least 8 characters", key="token")
        if not is_loopback(self.host) and not self.token:
            raise ConfigError(
                f"host {self.host!r} is not a loopback address: a token is required "
                f"(--token or ${ENV_TOKEN})",
                key="token",
                host=self.host,
            )
        return self

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)
