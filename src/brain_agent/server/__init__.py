"""The dashboard server: REST + WebSocket views of runs, and the built HUD (``create_app(settings)``)."""

from brain_agent.server.app import create_app
from brain_agent.server.settings import ENV_TOKEN, ServerSettings, is_loopback

__all__ = ["ENV_TOKEN", "ServerSettings", "create_app", "is_loopback"]
