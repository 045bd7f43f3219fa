"""Input types: filters of the list queries and the structured parts of commands."""

from __future__ import annotations

from datetime import date

import strawberry

from api.graphql import ids
from domain.engagement import EngagementPartner, Participants, Statement
from domain.partner import Relationship
from domain.personal_data import PersonalData
from domain.valid_time import ValidTime
from projections.queries.partners import PartnerFilter
from projections.queries.records import RiskRegisterFilter


@strawberry.input(description="Every field narrows the list; lists match any of their values.")
class PartnerFilterInput:
    kinds: list[str] | None = None
    countries: list[str] | None = None
    scopes: list[str] | None = None
    statuses: list[str] | None = None
    current_risk_ratings: list[str] | None = None
    focus_areas: list[str] | None = None
    search: str | None = strawberry.field(default=None, description="name, acronym, former names")
    not_engaged_since: date | None = strawberry.field(
        default=None, description="no engagement on or after this day"
    )

    def to_filter(self) -> PartnerFilter:
        return PartnerFilter(
            kinds=tuple(self.kinds or ()),
            countries=tuple(self.countries or ()),
            scopes=tuple(self.scopes or ()),
            statuses=tuple(self.statuses or ()),
            ratings=tuple(self.current_risk_ratings or ()),
            focus_areas=tuple(self.focus_areas or ()),
            search=self.search,
            not_engaged_since=self.not_engaged_since,
        )


@strawberry.input
class RiskRegisterFilterInput:
    ratings: list[str] | None = None
    partner_ids: list[strawberry.ID] | None = None
    only_overdue: bool = False

    def to_filter(self) -> RiskRegisterFilter:
        return RiskRegisterFilter(
            ratings=tuple(self.ratings or ()),
            partner_ids=tuple(str(ids.decode(p, ids.PARTNER)) for p in self.partner_ids or ()),
            only_overdue=self.only_overdue,
        )


@strawberry.input
class RelationshipInput:
    kind: str
    counterpart: str
    nature: str = ""
    partner_id: strawberry.ID | None = None

    def to_domain(self) -> Relationship:
        partner = None if self.partner_id is None else ids.decode(self.partner_id, ids.PARTNER)
        return Relationship(self.kind, self.counterpart, self.nature, partner)


@strawberry.input
class EngagementPartnerInput:
    partner_id: strawberry.ID
    role: str = "participant"

    def to_domain(self) -> EngagementPartner:
        return EngagementPartner(ids.decode(self.partner_id, ids.PARTNER), self.role)


@strawberry.input
class ParticipantsInput:
    total: int | None = None
    women: int | None = None
    youth: int | None = None

    def to_domain(self) -> Participants:
        return Participants(self.total, self.women, self.youth)


@strawberry.input
class PersonInput:
    name: str
    role: str = ""
    email: str = ""
    phone: str = ""

    def to_domain(self) -> PersonalData:
        import uuid

        return PersonalData(uuid.uuid4(), self.name, self.role, self.email, self.phone)


@strawberry.input
class StatementInput:
    text: str

    def to_domain(self) -> Statement:
        return Statement(self.text)


@strawberry.input
class CitationInput:
    assessment_id: strawberry.ID
    version: int | None = strawberry.field(default=None, description="now when omitted")

    def to_domain(self) -> object:
        found = ids.decode(self.assessment_id, ids.RISK_ASSESSMENT)
        return found if self.version is None else (found, self.version)


@strawberry.input(description="What an engagement records; dates as YYYY, YYYY-MM or YYYY-MM-DD.")
class EngagementInput:
    kind: str
    title: str
    on: str
    end: str | None = None
    location: str = ""
    virtual: bool = False
    organising_entities: list[str] | None = None
    partners: list[EngagementPartnerInput] | None = None
    un_entities: list[str] | None = None
    mission_components: list[str] | None = None
    participants: ParticipantsInput | None = None
    individual_participants: list[PersonInput] | None = None
    summary: str = ""
    outcomes: list[str] | None = None
    statements: list[StatementInput] | None = None
    non_attribution: bool = False
    confidentiality: str = "internal"


@strawberry.input(description="Only the fields given are corrected.")
class EngagementCorrectionInput:
    kind: str | None = None
    title: str | None = None
    on: str | None = None
    end: str | None = None
    location: str | None = None
    summary: str | None = None
    partners: list[EngagementPartnerInput] | None = None
    outcomes: list[str] | None = None
    mission_components: list[str] | None = None
    un_entities: list[str] | None = None
    participants: ParticipantsInput | None = None
    confidentiality: str | None = None

    def changes(self) -> dict[str, object]:
        found: dict[str, object] = {}
        for name in ("kind", "title", "location", "summary", "confidentiality"):
            value = getattr(self, name)
            if value is not None:
                found[name] = value
        for name in ("outcomes", "mission_components", "un_entities"):
            value = getattr(self, name)
            if value is not None:
                found[name] = tuple(value)
        if self.on is not None:
            found["start"] = self.on
        if self.end is not None:
            found["end"] = self.end
        if self.partners is not None:
            found["partners"] = [p.to_domain() for p in self.partners]
        if self.participants is not None:
            found["participants"] = self.participants.to_domain()
        return found


def period(text: str | None, field: str, *, last: bool) -> date | None:
    """A filter bound: "2020" from means 2020-01-01, "2020" to means 2020-12-31."""
    if text is None:
        return None
    found = ValidTime.parse(text, field=field)
    return found.end if last else found.start
