"""The run boundary: makes the ``run_id``, emits ``metadata_sync`` and ``cycle_completed``, and hands a
:class:`RunContext` to every step so all their events land under the same run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from brain_agent.errors import BudgetBlockedError
from brain_agent.knowledge import KnowledgePack
from brain_agent.storage import Store
from brain_agent.storage.heartbeat import Heartbeats
from brain_agent.telemetry import events as ev


@dataclass
class RunContext:
    store: Store
    run_id: str
    started: float = field(default_factory=time.monotonic)
    summary: dict[str, Any] = field(default_factory=dict)

    def emit(
        self,
        name: str,
        payload: dict[str, Any] | None = None,
        *,
        step: str,
        idea_id: str | None = None,
        lane: str | None = None,
    ) -> int:
        return self.store.append_event(self.run_id, name, payload, step=step, idea_id=idea_id, lane=lane)


class Pipeline:
    def __init__(self, store: Store) -> None:
        self.store = store

    def start_run(
        self, kind: str, metadata: dict[str, Any], *, knowledge_pack: KnowledgePack | None = None
    ) -> RunContext:
        payload = dict(metadata)
        self.store.reap_dead_runs(now=time.time())  # runs of dead processes: interrupted, not "running"
        if knowledge_pack is not None:
            payload["knowledge_pack"] = knowledge_pack.summary()
        run_id = self.store.create_run(kind, payload)
        ctx = RunContext(self.store, run_id)
        ctx.emit(ev.METADATA_SYNC, payload, step="pipeline")
        Heartbeats.for_store(self.store).add_run(run_id)
        return ctx

    def finish_run(self, ctx: RunContext, status: str = "completed") -> None:
        Heartbeats.for_store(self.store).remove_run(ctx.run_id)
        summary = {**ctx.summary, "status": status, "duration_s": round(time.monotonic() - ctx.started, 3)}
        ctx.emit(ev.CYCLE_COMPLETED, summary, step="pipeline")
        self.store.finish_run(ctx.run_id, status, summary)

    @contextmanager
    def run(
        self, kind: str, metadata: dict[str, Any], *, knowledge_pack: KnowledgePack | None = None
    ) -> Iterator[RunContext]:
        """A run that always ends with ``cycle_completed``: ``completed``, ``interrupted`` or ``failed``."""
        ctx = self.start_run(kind, metadata, knowledge_pack=knowledge_pack)
        try:
            yield ctx
        except KeyboardInterrupt:
            self.finish_run(ctx, "interrupted")
            raise
        except BudgetBlockedError:
            self.finish_run(ctx, "blocked")
            raise
        except BaseException:
            self.finish_run(ctx, "failed")
            raise
        else:
            self.finish_run(ctx, "completed")
