"""History view: every event of every record, with actor, role, reason, version and both clocks."""

from __future__ import annotations

from typing import Any

from domain.recorded import RegistryAggregate
from projections.batch import Fact, ViewBatch
from projections.handlers import HANDLERS


@HANDLERS.on(RegistryAggregate.Event, reads_event=False)
def record_history(batch: ViewBatch, event: Any, fact: Fact) -> None:  # noqa: ARG001
    batch.append(
        "view_history",
        {
            "record_id": fact.record_id,
            "version": fact.version,
            "record_type": fact.record_type,
            "event_type": fact.event_type,
            "position": fact.position,
            "actor_id": fact.actor_id,
            "actor_role": fact.actor_role,
            "reason": fact.reason,
            "recorded_at": fact.recorded_at,
            "valid_start": fact.valid_start,
            "valid_end": fact.valid_end,
            "valid_precision": fact.valid_precision,
        },
    )
