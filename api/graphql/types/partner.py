"""Partner: a partner organisation's record, now or as recorded at an instant (asOf)."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from api.graphql import ids
from api.graphql.context import Info
from api.graphql.described import described_field
from api.graphql.types.actor_mapping import ActorMapping
from api.graphql.types.contact_person import ContactPerson
from api.graphql.types.decision import Decision
from api.graphql.types.engagement import Engagement
from api.graphql.types.risk_assessment import RiskAssessment
from api.graphql.types.timeline_entry import TimelineEntry
from api.views import PartnerDetails, PartnerView


@strawberry.type
class Partner:
    id: strawberry.ID
    name: str
    acronym: str
    kind: str
    scope: str
    status: str
    status_reason: str | None
    countries: list[str]
    focus_areas: list[str]
    mission_context: str
    external_id: str
    current_risk_rating: str | None
    last_engaged_on: date | None
    version: int
    as_of: datetime | None = strawberry.field(description="the instant this record is shown as of")
    _id: strawberry.Private[str]
    _as_of: strawberry.Private[str | None]

    @classmethod
    def from_view(cls, view: PartnerView) -> Partner:
        return cls(
            id=strawberry.ID(ids.encode(ids.PARTNER, view.partner_id)),
            name=view.name,
            acronym=view.acronym,
            kind=view.kind,
            scope=view.scope,
            status=view.status,
            status_reason=view.status_reason,
            countries=list(view.countries),
            focus_areas=list(view.focus_areas),
            mission_context=view.mission_context,
            external_id=view.external_id,
            current_risk_rating=view.current_rating,
            last_engaged_on=view.last_engaged_on,
            version=view.version,
            as_of=None if view.as_of is None else datetime.fromisoformat(view.as_of),
            _id=view.partner_id,
            _as_of=view.as_of,
        )

    async def _details(self, info: Info) -> PartnerDetails:
        found: PartnerDetails = await info.context.loaders.partner_details.load(
            (self._id, self.version)
        )
        return found

    @strawberry.field
    async def former_names(self, info: Info) -> list[str]:
        return list((await self._details(info)).former_names)

    @strawberry.field
    async def locations(self, info: Info) -> list[str]:
        return list((await self._details(info)).locations)

    @described_field("internal: not shown to partners")
    async def actor_mapping(self, info: Info) -> ActorMapping | None:
        mapping = (await self._details(info)).actor_mapping
        return None if mapping is None else ActorMapping.from_view(mapping)

    @described_field("personal data: only for those who may see it")
    async def contact_persons(self, info: Info) -> list[ContactPerson]:
        return [ContactPerson.from_view(c) for c in (await self._details(info)).contacts]

    @strawberry.field
    async def engagements(self, info: Info) -> list[Engagement]:
        found = await info.context.loaders.engagements.load((self._id, self._as_of))
        return [Engagement.from_view(e) for e in found]

    @strawberry.field
    async def risk_assessments(self, info: Info) -> list[RiskAssessment]:
        found = await info.context.loaders.assessments.load((self._id, self._as_of))
        return [RiskAssessment.from_view(a) for a in found]

    @strawberry.field
    async def decisions(self, info: Info) -> list[Decision]:
        found = await info.context.loaders.decisions.load((self._id, self._as_of))
        return [Decision.from_view(d) for d in found]

    @described_field("this partner's entries, by valid then recorded time")
    async def timeline(self, info: Info) -> list[TimelineEntry]:
        found = await info.context.loaders.timelines.load((self._id, self._as_of))
        return [TimelineEntry.from_entry(e) for e in found]
