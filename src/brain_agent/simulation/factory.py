"""Build a simulation backend by name (``local`` | ``brain``), shared by ``simulate-candidates`` and
``run-batch --simulate``."""

from __future__ import annotations

import os
from pathlib import Path

from brain_agent.errors import InputError, KnowledgePackError
from brain_agent.knowledge import KnowledgePack, load_knowledge_pack
from brain_agent.settings import default_knowledge_pack_dir
from brain_agent.simulation.backend import SimulationBackend

ENV_BRAIN_URL = "BRAIN_API_URL"
BACKEND_NAMES = ("local", "brain")


def local_backend(knowledge_pack: KnowledgePack | Path | None = None) -> SimulationBackend:
    from brain_agent.simulation.local.backend import LocalBackend

    pack: KnowledgePack | None
    if isinstance(knowledge_pack, KnowledgePack):
        pack = knowledge_pack
    else:
        try:
            pack = load_knowledge_pack(
                knowledge_pack if knowledge_pack is not None else default_knowledge_pack_dir()
            )
        except KnowledgePackError:
            if knowledge_pack is not None:
                raise
            pack = None  # no pack: the market offers its core price/volume fields only
    return LocalBackend(knowledge_pack=pack)


def brain_backend(brain_url: str | None, interactive_login: bool, db_path: Path | None) -> SimulationBackend:
    try:
        from brain_agent.simulation.brain import BrainBackend
    except ImportError as exc:
        raise InputError(f"the brain backend is not available in this installation ({exc})") from None
    backend: SimulationBackend = BrainBackend.from_options(
        base_url=brain_url or os.environ.get(ENV_BRAIN_URL) or None,
        interactive_login=interactive_login,
        db_path=db_path,
    )
    return backend


def close_backend(backend: SimulationBackend) -> None:
    """Release what a backend holds (the BRAIN client's connections); a no-op for the local one."""
    close = getattr(backend, "close", None)
    if callable(close):
        close()


def log_in(backend: SimulationBackend) -> None:
    """Log in now when the backend has a login (BRAIN; the local one has none): wrong, missing or
    too-open credentials stop the command here (exit 2) before any work is done or paid for. The
    backend is closed when the login fails."""
    login = getattr(backend, "login", None)
    if not callable(login):
        return
    try:
        login()
    except BaseException:
        close_backend(backend)
        raise


def make_backend(
    name: str,
    *,
    db_path: Path | None,
    knowledge_pack: KnowledgePack | Path | None = None,
    brain_url: str | None = None,
    interactive_login: bool = False,
) -> SimulationBackend:
    key = name.strip().lower()
    if key == "local":
        return local_backend(knowledge_pack)
    if key == "brain":
        return brain_backend(brain_url, interactive_login, db_path)
    raise InputError(
        f"unknown simulation backend {name!r}; choose one of: {', '.join(BACKEND_NAMES)}", key="backend"
    )
