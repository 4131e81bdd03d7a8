"""The BRAIN half of the simulation room: an httpx client for WorldQuant BRAIN's REST API.

``BrainBackend`` implements ``SimulationBackend``; ``BrainSession`` is the authenticated session
(Basic login, Persona interactive login, 0600 cookie file, retries and limits); ``sync_knowledge_pack``
refreshes ``data/meta/index`` from ``GET /operators`` and ``GET /data-fields``.
"""

from brain_agent.simulation.brain.api import BrainApi
from brain_agent.simulation.brain.backend import BrainBackend, Handle, press_enter
from brain_agent.simulation.brain.catalog import SyncReport, parse_definition, sync_knowledge_pack
from brain_agent.simulation.brain.clock import (
    Clock,
    SystemClock,
    next_new_york_midnight,
    seconds_until_new_york_midnight,
)
from brain_agent.simulation.brain.credentials import Credentials, SessionStore, load_credentials, session_path
from brain_agent.simulation.brain.session import (
    BrainSession,
    ConcurrencyLimitError,
    DailyLimitError,
    default_base_url,
)
from brain_agent.simulation.brain.throttle import ConcurrencyWindow, RetryPolicy

__all__ = [
    "BrainApi",
    "BrainBackend",
    "BrainSession",
    "Clock",
    "ConcurrencyLimitError",
    "ConcurrencyWindow",
    "Credentials",
    "DailyLimitError",
    "Handle",
    "RetryPolicy",
    "SessionStore",
    "SyncReport",
    "SystemClock",
    "default_base_url",
    "load_credentials",
    "next_new_york_midnight",
    "parse_definition",
    "press_enter",
    "seconds_until_new_york_midnight",
    "session_path",
    "sync_knowledge_pack",
]
