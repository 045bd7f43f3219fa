"""Engagement: a meeting, consultation, visit or activity with partners; details load on demand."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.graphql import ids
from api.graphql.context import Info
from api.graphql.described import described_field
from api.graphql.types.contact_person import ContactPerson
from api.graphql.types.engagement_participant import EngagementParticipant
from api.graphql.types.follow_up import FollowUp
from api.graphql.types.statement import Statement
from api.graphql.types.valid_time import ValidTime
from api.views import EngagementDetailsView, EngagementView


@strawberry.type
class Engagement:
    id: strawberry.ID
    kind: str
    title: str
    summary: str | None = strawberry.field(description="null when confidential to the caller")
    date: ValidTime
    end_date: ValidTime | None
    location: str | None
    confidentiality: str
    non_attribution: bool
    version: int
    recorded_at: datetime
    role: str | None = strawberry.field(description="the partner's role (in a partner's list)")
    _key: strawberry.Private[tuple[str, int]]

    @classmethod
    def from_view(cls, view: EngagementView) -> Engagement:
        return cls(
            id=strawberry.ID(ids.encode(ids.ENGAGEMENT, view.engagement_id)),
            kind=view.kind,
            title=view.title,
            summary=view.summary,
            date=ValidTime.from_domain(view.start),
            end_date=ValidTime.from_optional(view.end),
            location=view.location,
            confidentiality=view.confidentiality,
            non_attribution=view.non_attribution,
            version=view.version,
            recorded_at=datetime.fromisoformat(view.recorded_at),
            role=view.role,
            _key=(view.engagement_id, view.version),
        )

    async def _details(self, info: Info) -> EngagementDetailsView:
        found: EngagementDetailsView = await info.context.loaders.engagement_details.load(self._key)
        return found

    @strawberry.field
    async def partners(self, info: Info) -> list[EngagementParticipant]:
        return [EngagementParticipant.from_view(p) for p in (await self._details(info)).partners]

    @strawberry.field
    async def virtual(self, info: Info) -> bool:
        return (await self._details(info)).virtual

    @strawberry.field
    async def organising_entities(self, info: Info) -> list[str]:
        return list((await self._details(info)).organising_entities)

    @strawberry.field
    async def un_entities(self, info: Info) -> list[str]:
        return list((await self._details(info)).un_entities)

    @strawberry.field
    async def mission_components(self, info: Info) -> list[str]:
        return list((await self._details(info)).mission_components)

    @strawberry.field
    async def participants_total(self, info: Info) -> int | None:
        return (await self._details(info)).participants_total

    @strawberry.field
    async def participants_women(self, info: Info) -> int | None:
        return (await self._details(info)).participants_women

    @strawberry.field
    async def participants_youth(self, info: Info) -> int | None:
        return (await self._details(info)).participants_youth

    @described_field("named participants (personal data, where allowed)")
    async def individual_participants(self, info: Info) -> list[ContactPerson]:
        people = (await self._details(info)).individual_participants
        return [ContactPerson.from_view(p) for p in people]

    @strawberry.field
    async def outcomes(self, info: Info) -> list[str]:
        return list((await self._details(info)).outcomes)

    @strawberry.field
    async def statements(self, info: Info) -> list[Statement]:
        return [Statement.from_view(s) for s in (await self._details(info)).statements]

    @strawberry.field
    async def follow_ups(self, info: Info) -> list[FollowUp]:
        return [FollowUp.from_view(f) for f in (await self._details(info)).follow_ups]
