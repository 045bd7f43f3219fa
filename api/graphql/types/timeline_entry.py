"""TimelineEntry: one event in the chronological stream across partners."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.graphql import ids
from api.graphql.types.valid_time import ValidTime
from projections.queries.timeline import TimelineEntry as Entry

RECORD_TYPES = {
    "PartnerOrganisation": ids.PARTNER,
    "Engagement": ids.ENGAGEMENT,
    "RiskAssessment": ids.RISK_ASSESSMENT,
    "DueDiligenceDecision": ids.DECISION,
}


def record_global_id(record_type: str, record_id: str) -> strawberry.ID:
    return strawberry.ID(ids.encode(RECORD_TYPES.get(record_type, record_type), record_id))


@strawberry.type
class TimelineEntry:
    id: strawberry.ID
    event_id: strawberry.ID = strawberry.field(
        description="the stored event's id, for inclusionProof(eventId) (id is accepted too)"
    )
    record_id: strawberry.ID
    version: int
    kind: str
    title: str
    valid_time: ValidTime
    recorded_at: datetime
    recorded_late: bool = strawberry.field(description="recorded over 30 days after it happened")
    partner_ids: list[strawberry.ID]
    partner_kinds: list[str]
    actor_id: str
    actor_role: str
    reason: str

    @classmethod
    def from_entry(cls, entry: Entry) -> TimelineEntry:
        return cls(
            id=strawberry.ID(ids.encode(ids.TIMELINE_ENTRY, entry.entry_id)),
            event_id=strawberry.ID(ids.event_id(entry.record_id, entry.version)),
            record_id=record_global_id(entry.record_type, entry.record_id),
            version=entry.version,
            kind=entry.kind,
            title=entry.title,
            valid_time=ValidTime.from_domain(entry.valid_time),
            recorded_at=datetime.fromisoformat(entry.recorded_at),
            recorded_late=entry.recorded_late,
            partner_ids=[strawberry.ID(ids.encode(ids.PARTNER, p)) for p in entry.partner_ids],
            partner_kinds=list(entry.partner_kinds),
            actor_id=entry.actor_id,
            actor_role=entry.actor_role,
            reason=entry.reason,
        )
