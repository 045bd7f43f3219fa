"""Decision: a due-diligence decision, who proposed and decided it, and what it relied on."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.graphql import ids
from api.graphql.context import Info
from api.graphql.described import described_field
from api.graphql.types.cited_assessment import CitedAssessment
from api.graphql.types.communication import Communication
from api.graphql.types.review import Review
from api.graphql.types.valid_time import ValidTime
from api.views import DecisionDetails, DecisionView

if TYPE_CHECKING:
    from api.graphql.types.partner import Partner


@strawberry.type
class Decision:
    id: strawberry.ID
    partner_id: strawberry.ID
    scope: str
    status: str
    outcome: str | None
    proposer: str
    proposer_role: str
    decider: str | None
    decider_role: str | None
    review_due: date | None
    overdue: bool = strawberry.field(description="approved and past its review due date")
    version: int
    _key: strawberry.Private[tuple[str, int]]
    _partner: strawberry.Private[str]

    @classmethod
    def from_view(cls, view: DecisionView) -> Decision:
        return cls(
            id=strawberry.ID(ids.encode(ids.DECISION, view.decision_id)),
            partner_id=strawberry.ID(ids.encode(ids.PARTNER, view.partner_id)),
            scope=view.scope,
            status=view.status,
            outcome=view.outcome,
            proposer=view.proposer,
            proposer_role=view.proposer_role,
            decider=view.decider,
            decider_role=view.decider_role,
            review_due=view.review_due,
            overdue=view.overdue,
            version=view.version,
            _key=(view.decision_id, view.version),
            _partner=view.partner_id,
        )

    async def _details(self, info: Info) -> DecisionDetails:
        found: DecisionDetails = await info.context.loaders.decision_details.load(self._key)
        return found

    @strawberry.field
    async def partner(
        self, info: Info
    ) -> Annotated[Partner, strawberry.lazy("api.graphql.types.partner")] | None:
        from api.graphql.types.partner import Partner

        found = await info.context.loaders.partners.load(self._partner)
        return None if found is None else Partner.from_view(found)

    @described_field("why (internal: not shown to partners)")
    async def rationale(self, info: Info) -> str | None:
        return (await self._details(info)).rationale

    @strawberry.field
    async def conditions(self, info: Info) -> list[str]:
        return list((await self._details(info)).conditions)

    @strawberry.field
    async def decided_on(self, info: Info) -> ValidTime | None:
        return ValidTime.from_optional((await self._details(info)).decided_on)

    @strawberry.field
    async def dissents(self, info: Info) -> list[str]:
        return list((await self._details(info)).dissents)

    @strawberry.field
    async def reviews(self, info: Info) -> list[Review]:
        return [Review.from_view(r) for r in (await self._details(info)).reviews]

    @strawberry.field
    async def communications(self, info: Info) -> list[Communication]:
        return [Communication.from_view(c) for c in (await self._details(info)).communications]

    @described_field("each cited assessment as it stood at the cited version")
    async def relied_on(self, info: Info) -> list[CitedAssessment]:
        citations = (await self._details(info)).relied_on
        cited = await asyncio.to_thread(info.context.reader.cited_assessments, citations)
        return [CitedAssessment.from_view(c) for c in cited]
