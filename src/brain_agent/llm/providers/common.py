"""Small helpers shared by the network providers: env fallbacks, local-URL test, safe messages."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from brain_agent.errors import ConfigError

MODEL_ENV = "BRAIN_AGENT_LLM_MODEL"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0", "host.docker.internal"})
NO_KEY = "not-needed"


def pick(explicit: str | None, env: str) -> str | None:
    """Explicit value, else the environment variable, else None (empty strings count as unset)."""
    if explicit:
        return explicit
    return os.environ.get(env) or None


def require_model(model: str | None, provider: str) -> str:
    chosen = pick(model, MODEL_ENV)
    if not chosen:
        raise ConfigError(
            f"the {provider} provider needs a model: pass --llm-model or set {MODEL_ENV}", key="model"
        )
    return chosen


def is_local(base_url: str | None) -> bool:
    if not base_url:
        return False
    host = urlsplit(base_url).hostname or ""
    return host in LOCAL_HOSTS or host.endswith(".local")


def redact(text: str, secret: str | None, limit: int = 300) -> str:
    """``text`` without the secret, shortened to ``limit`` characters."""
    if secret and secret != NO_KEY and len(secret) >= 4:
        text = text.replace(secret, "***")
    return text if len(text) <= limit else text[: limit - 1] + "…"
