"""Mitigation: a measure that lowers a risk, its owner, due date and status."""

from __future__ import annotations

from datetime import date

import strawberry

from api.graphql import ids
from api.views import MitigationView


@strawberry.type
class Mitigation:
    id: strawberry.ID
    measure: str
    owner: str
    due: date | None
    status: str

    @classmethod
    def from_view(cls, view: MitigationView) -> Mitigation:
        return cls(
            id=strawberry.ID(ids.encode(ids.MITIGATION, view.mitigation_id)),
            measure=view.measure,
            owner=view.owner,
            due=view.due,
            status=view.status,
        )
