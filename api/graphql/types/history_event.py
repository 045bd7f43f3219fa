"""HistoryEvent: one event of one record, with who, in which role, why, and when."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from api.graphql import ids
from api.graphql.types.valid_time import ValidTime
from domain.valid_time import ValidTime as DomainValidTime
from projections.queries.records import HistoryEvent as Event


@strawberry.type
class HistoryEvent:
    event_id: strawberry.ID = strawberry.field(
        description="this event's id, for inclusionProof(eventId)"
    )
    version: int
    event_type: str
    actor_id: str
    actor_role: str
    reason: str
    recorded_at: datetime
    valid_time: ValidTime
    position: int

    @classmethod
    def from_event(cls, event: Event) -> HistoryEvent:
        valid = DomainValidTime(date.fromisoformat(event.valid_start), event.valid_precision)
        return cls(
            event_id=strawberry.ID(ids.event_id(event.record_id, event.version)),
            version=event.version,
            event_type=event.event_type,
            actor_id=event.actor_id,
            actor_role=event.actor_role,
            reason=event.reason,
            recorded_at=datetime.fromisoformat(event.recorded_at),
            valid_time=ValidTime.from_domain(valid),
            position=event.position,
        )
