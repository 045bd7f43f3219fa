"""Relationship: how a partner stands towards the host state, a party or another partner."""

from __future__ import annotations

import strawberry

from api.graphql import ids
from api.views import RelationshipView


@strawberry.type
class Relationship:
    kind: str
    counterpart: str
    nature: str
    partner_id: strawberry.ID | None

    @classmethod
    def from_view(cls, view: RelationshipView) -> Relationship:
        partner = None if view.partner_id is None else ids.encode(ids.PARTNER, view.partner_id)
        return cls(
            kind=view.kind,
            counterpart=view.counterpart,
            nature=view.nature,
            partner_id=None if partner is None else strawberry.ID(partner),
        )
