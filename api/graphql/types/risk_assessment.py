"""RiskAssessment: risks of working with a partner, mitigations, workflow status and rating."""

from __future__ import annotations

from datetime import date

import strawberry

from api.graphql import ids
from api.graphql.context import Info
from api.graphql.types.mitigation import Mitigation
from api.graphql.types.risk import Risk
from api.views import AssessmentDetails, AssessmentView


@strawberry.type
class RiskAssessment:
    id: strawberry.ID
    partner_id: strawberry.ID
    engagement_id: strawberry.ID | None
    title: str
    status: str
    score: int | None
    rating: str | None
    finalised_on: date | None
    superseded_by: strawberry.ID | None
    version: int
    _key: strawberry.Private[tuple[str, int]]

    @classmethod
    def from_view(cls, view: AssessmentView) -> RiskAssessment:
        engagement = view.engagement_id
        superseded = view.superseded_by
        return cls(
            id=strawberry.ID(ids.encode(ids.RISK_ASSESSMENT, view.assessment_id)),
            partner_id=strawberry.ID(ids.encode(ids.PARTNER, view.partner_id)),
            engagement_id=None
            if engagement is None
            else strawberry.ID(ids.encode(ids.ENGAGEMENT, engagement)),
            title=view.title,
            status=view.status,
            score=view.score,
            rating=view.rating,
            finalised_on=view.finalised_on,
            superseded_by=None
            if superseded is None
            else strawberry.ID(ids.encode(ids.RISK_ASSESSMENT, superseded)),
            version=view.version,
            _key=(view.assessment_id, view.version),
        )

    async def _details(self, info: Info) -> AssessmentDetails:
        found: AssessmentDetails = await info.context.loaders.assessment_details.load(self._key)
        return found

    @strawberry.field
    async def risks(self, info: Info) -> list[Risk]:
        return [Risk.from_view(r) for r in (await self._details(info)).risks]

    @strawberry.field
    async def mitigations(self, info: Info) -> list[Mitigation]:
        return [Mitigation.from_view(m) for m in (await self._details(info)).mitigations]

    @strawberry.field
    async def withdrawal_reason(self, info: Info) -> str | None:
        return (await self._details(info)).withdrawal_reason
