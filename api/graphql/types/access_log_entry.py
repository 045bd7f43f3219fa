"""AccessLogEntry: one read of a partner's record: who, in which role, when, through what."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.graphql import ids
from projections.queries.access_log import AccessLogEntry as Entry


@strawberry.type
class AccessLogEntry:
    partner_id: strawberry.ID
    read_at: datetime
    actor_id: str
    actor_role: str
    operation: str = strawberry.field(
        description="how the record was read: partner, partners, timeline, decision, history, "
        "export, riskRegister, engagement or riskAssessment"
    )

    @classmethod
    def from_entry(cls, entry: Entry) -> AccessLogEntry:
        return cls(
            partner_id=strawberry.ID(ids.encode(ids.PARTNER, entry.partner_id)),
            read_at=datetime.fromisoformat(entry.read_at),
            actor_id=entry.actor_id,
            actor_role=entry.actor_role,
            operation=entry.operation,
        )
