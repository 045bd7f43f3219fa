"""RiskRegisterRow: a partner's current rating, open mitigations and decisions past review."""

from __future__ import annotations

import strawberry

from api.graphql import ids
from api.graphql.types.decision import Decision
from api.graphql.types.mitigation import Mitigation
from api.views import RegisterRowView


@strawberry.type
class RiskRegisterRow:
    partner_id: strawberry.ID
    name: str
    kind: str
    status: str
    current_rating: str | None
    open_mitigations: list[Mitigation]
    overdue_decisions: list[Decision]

    @classmethod
    def from_view(cls, view: RegisterRowView) -> RiskRegisterRow:
        return cls(
            partner_id=strawberry.ID(ids.encode(ids.PARTNER, view.partner_id)),
            name=view.name,
            kind=view.kind,
            status=view.status,
            current_rating=view.current_rating,
            open_mitigations=[Mitigation.from_view(m) for m in view.open_mitigations],
            overdue_decisions=[Decision.from_view(d) for d in view.overdue_decisions],
        )
