"""Paths and process-wide settings. Nothing here is computed at import time."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

ENV_DB = "BRAIN_AGENT_DB"
ENV_KNOWLEDGE_PACK = "BRAIN_AGENT_KNOWLEDGE_PACK"
DEFAULT_KNOWLEDGE_PACK = Path("data/meta/index")


def repo_root() -> Path:
    """The checkout this package lives in (src layout: src/brain_agent/ -> ../..)."""
    return Path(__file__).resolve().parents[2]


def default_db_path() -> Path:
    """``$BRAIN_AGENT_DB`` if set, else ``brain_agent.db`` in the per-user data folder."""
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env)
    return Path(user_data_dir("brain-agent", appauthor=False)) / "brain_agent.db"


def default_db_location() -> str:
    """Where the store lives: ``$BRAIN_AGENT_DB`` (a file path or a ``postgresql://`` URL), else
    ``brain_agent.db`` in the per-user data folder."""
    env = os.environ.get(ENV_DB)
    if env:
        return env
    return str(Path(user_data_dir("brain-agent", appauthor=False)) / "brain_agent.db")


def default_knowledge_pack_dir() -> Path:
    """``$BRAIN_AGENT_KNOWLEDGE_PACK``, else ``./data/meta/index``, else the checkout's copy."""
    env = os.environ.get(ENV_KNOWLEDGE_PACK)
    if env:
        return Path(env)
    if DEFAULT_KNOWLEDGE_PACK.is_dir():
        return DEFAULT_KNOWLEDGE_PACK
    return repo_root() / DEFAULT_KNOWLEDGE_PACK


def default_configs_dir() -> Path:
    local = Path("configs")
    if local.is_dir():
        return local
    return repo_root() / "configs"
