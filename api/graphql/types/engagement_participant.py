"""EngagementParticipant: a partner taking part in an engagement, in one role."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from api.graphql import ids
from api.graphql.context import Info
from api.views import EngagementPartnerView

if TYPE_CHECKING:
    from api.graphql.types.partner import Partner


@strawberry.type
class EngagementParticipant:
    partner_id: strawberry.ID
    role: str
    _partner_id: strawberry.Private[str]

    @classmethod
    def from_view(cls, view: EngagementPartnerView) -> EngagementParticipant:
        return cls(
            partner_id=strawberry.ID(ids.encode(ids.PARTNER, view.partner_id)),
            role=view.role,
            _partner_id=view.partner_id,
        )

    @strawberry.field
    async def partner(
        self, info: Info
    ) -> Annotated[Partner, strawberry.lazy("api.graphql.types.partner")] | None:
        from api.graphql.types.partner import Partner

        found = await info.context.loaders.partners.load(self._partner_id)
        return None if found is None else Partner.from_view(found)
