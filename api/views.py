"""RegistryReader: the one place the API reads the registry, scoped to the caller and redacted.

Every method asks ``security.permissions`` (operation, partner scope, field classes, pseudonyms)
before it returns anything; GraphQL resolvers and exports never filter by role themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, Protocol
from uuid import UUID

from domain.actors import Actor
from domain.application import PartnershipRegistry
from domain.decision import DueDiligenceDecision
from domain.engagement import Engagement
from domain.errors import NotFound, ValidationError
from domain.partner import PartnerOrganisation
from domain.risk_assessment import FINALISED, RiskAssessment, rating_rank
from domain.valid_time import ValidTime
from projections.batch import iso_instant
from projections.queries.access_log import AccessLogEntry, access_log
from projections.queries.partners import (
    PartnerFilter,
    PartnerKey,
    PartnerPage,
    PartnerRow,
    list_partners,
    load_partners,
)
from projections.queries.records import (
    HistoryEvent,
    RiskRegisterFilter,
    RiskRegisterRow,
    assessments_for_partners,
    decisions_for_partners,
    engagements_ever_linked,
    engagements_for_partners,
    histories,
    record_partner_ids,
    risk_register,
    version_as_of,
)
from projections.queries.timeline import (
    TimelineEntry,
    TimelineFilter,
    TimelineKey,
    TimelinePage,
    timeline,
    timelines_for_partners,
)
from projections.store import Row, ViewStore
from security import permissions
from security.ledger import (
    AuditLedger,
    ConsistencyProof,
    EventNotInLedgerError,
    InclusionProof,
    ProofError,
    StoredCheckpoint,
)
from security.permissions import CONFIDENTIAL, INTERNAL, PERSONAL

# Operations as ``security.permissions.OPERATIONS`` names them (the GraphQL field names).
READ_PARTNERS = "partners"
READ_PARTNER = "partner"
READ_TIMELINE = "timeline"
READ_DECISION = "decision"
READ_RISK_REGISTER = "riskRegister"
READ_HISTORY = "history"
EXPORT_TIMELINE = "export"
READ_ACCESS_LOG = "accessLog"
READ_CHECKPOINT = "checkpoint"
READ_INCLUSION_PROOF = "inclusionProof"
READ_CONSISTENCY_PROOF = "consistencyProof"
# How a read reached a partner's record, as the access log names it (besides the above).
READ_ENGAGEMENT = "engagement"
READ_RISK_ASSESSMENT = "riskAssessment"
ACCESS_LOG_CAP = 10_000
SEALED_LEVELS = frozenset({"confidential", "restricted"})


@dataclass(frozen=True)
class RelationshipView:
    kind: str
    counterpart: str
    nature: str
    partner_id: str | None


@dataclass(frozen=True)
class ActorMappingView:
    interest: int
    influence: int
    stance: str
    relationships: tuple[RelationshipView, ...]


@dataclass(frozen=True)
class ContactView:
    person_id: str
    name: str
    role: str
    email: str
    phone: str
    erased: bool


@dataclass(frozen=True)
class PartnerView:
    """A partner as the caller may see it, now (from the views) or as recorded at ``as_of``."""

    partner_id: str
    name: str
    acronym: str
    kind: str
    scope: str
    status: str
    status_reason: str | None
    countries: tuple[str, ...]
    focus_areas: tuple[str, ...]
    mission_context: str
    external_id: str
    current_rating: str | None
    last_engaged_on: date | None
    version: int
    as_of: str | None = None

    @classmethod
    def from_row(cls, row: PartnerRow, internal: bool) -> PartnerView:
        return cls(
            row.partner_id,
            row.name,
            row.acronym,
            row.kind,
            row.scope,
            row.status,
            row.status_reason if internal else None,
            row.countries,
            row.focus_areas,
            row.mission_context,
            row.external_id,
            row.current_rating,
            row.last_engaged_on,
            row.version,
        )


@dataclass(frozen=True)
class PartnerDetails:
    """What only the partner's events hold: former names, locations, mapping, contacts."""

    former_names: tuple[str, ...]
    locations: tuple[str, ...]
    actor_mapping: ActorMappingView | None
    contacts: tuple[ContactView, ...]


@dataclass(frozen=True)
class FollowUpView:
    follow_up_id: str
    action: str
    owner: str
    due: date | None
    done: bool
    done_on: ValidTime | None


@dataclass(frozen=True)
class EngagementPartnerView:
    partner_id: str
    role: str


@dataclass(frozen=True)
class StatementView:
    text: str
    speaker: str | None


@dataclass(frozen=True)
class EngagementView:
    """An engagement's summary (from the views) and, when loaded, its details (from events)."""

    engagement_id: str
    kind: str
    title: str
    summary: str | None
    start: ValidTime
    end: ValidTime | None
    location: str | None
    confidentiality: str
    non_attribution: bool
    version: int
    recorded_at: str
    role: str | None = None


@dataclass(frozen=True)
class EngagementDetailsView:
    virtual: bool
    organising_entities: tuple[str, ...]
    partners: tuple[EngagementPartnerView, ...]
    un_entities: tuple[str, ...]
    mission_components: tuple[str, ...]
    participants_total: int | None
    participants_women: int | None
    participants_youth: int | None
    individual_participants: tuple[ContactView, ...]
    outcomes: tuple[str, ...]
    statements: tuple[StatementView, ...]
    follow_ups: tuple[FollowUpView, ...]


@dataclass(frozen=True)
class RiskView:
    risk_id: str
    category: str
    likelihood: int
    impact: int
    score: int
    rating: str
    description: str | None
    confidential_sources: str | None


@dataclass(frozen=True)
class MitigationView:
    mitigation_id: str
    measure: str
    owner: str
    due: date | None
    status: str


@dataclass(frozen=True)
class AssessmentView:
    assessment_id: str
    partner_id: str
    engagement_id: str | None
    title: str
    status: str
    score: int | None
    rating: str | None
    finalised_on: date | None
    superseded_by: str | None
    version: int


@dataclass(frozen=True)
class AssessmentDetails:
    risks: tuple[RiskView, ...]
    mitigations: tuple[MitigationView, ...]
    withdrawal_reason: str | None


@dataclass(frozen=True)
class CitedAssessment:
    """An assessment a decision relied on, as it stood at the cited version."""

    assessment: AssessmentView
    details: AssessmentDetails
    cited_version: int
    current_version: int
    current_status: str

    @property
    def changed_since(self) -> bool:
        return self.current_version != self.cited_version


@dataclass(frozen=True)
class ReviewView:
    outcome: str
    reviewed_on: ValidTime
    reviewer: str
    note: str | None
    next_review_due: date | None


@dataclass(frozen=True)
class CommunicationView:
    channel: str
    communicated_on: ValidTime
    note: str | None


@dataclass(frozen=True)
class DecisionView:
    decision_id: str
    partner_id: str
    scope: str
    status: str
    outcome: str | None
    proposer: str
    proposer_role: str
    decider: str | None
    decider_role: str | None
    review_due: date | None
    overdue: bool
    version: int


@dataclass(frozen=True)
class DecisionDetails:
    rationale: str | None
    conditions: tuple[str, ...]
    decided_on: ValidTime | None
    dissents: tuple[str, ...]
    reviews: tuple[ReviewView, ...]
    communications: tuple[CommunicationView, ...]
    relied_on: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class RegisterRowView:
    partner_id: str
    name: str
    kind: str
    status: str
    current_rating: str | None
    open_mitigations: tuple[MitigationView, ...]
    overdue_decisions: tuple[DecisionView, ...]


class RecordsReads(Protocol):
    """Where reads of partners' records are noted (``security.access_log.AccessRecorder``)."""

    def record(self, actor: Actor, partner_ids: Iterable[object], operation: str) -> None: ...


@dataclass(frozen=True)
class ProvenInclusion:
    """An inclusion proof and the signed checkpoint (same tree size) it verifies against."""

    proof: InclusionProof
    checkpoint: StoredCheckpoint


@dataclass(frozen=True)
class ProvenConsistency:
    """A consistency proof and the signed checkpoint of its new size (None when unsigned)."""

    proof: ConsistencyProof
    checkpoint: StoredCheckpoint | None


def instant_text(moment: datetime) -> str:
    """A client's instant as the views store recorded times (UTC; naive means UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return iso_instant(aware)


def _date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


class RegistryReader:
    """Reads for one caller: scope and field rules applied before anything is returned."""

    def __init__(
        self,
        actor: Actor,
        store: ViewStore,
        registry: PartnershipRegistry,
        *,
        today: date | None = None,
        recorder: RecordsReads | None = None,
        ledger: Callable[[], AuditLedger] | None = None,
        verifier_key: Callable[[], str | None] | None = None,
    ) -> None:
        self.actor = actor
        self.store = store
        self.registry = registry
        self.today = today or date.today()
        self.scope: frozenset[str] | None = permissions.partner_scope(actor)
        self.recorder = recorder
        self._ledger = ledger
        self._verifier_key = verifier_key
        self._may: dict[str, bool] = {}
        self._noted: set[tuple[str, str]] = set()

    # ---- accountability ---------------------------------------------------------------

    def _read(self, partner_ids: Iterable[object], operation: str) -> None:
        """Note that the caller read these partners' records (once per partner and operation
        per reader, i.e. per request); buffered, never waits on storage."""
        if self.recorder is None:
            return
        fresh = []
        for partner_id in partner_ids:
            key = (str(partner_id), operation)
            if key not in self._noted:
                self._noted.add(key)
                fresh.append(key[0])
        if fresh:
            self.recorder.record(self.actor, fresh, operation)

    # ---- rules ----------------------------------------------------------------------

    def check(self, operation: str) -> None:
        """FORBIDDEN unless the caller's role may perform ``operation``."""
        permissions.check(self.actor, operation)

    def may_see(self, field_class: str, owner: str | None = None) -> bool:
        """Whether fields of ``field_class`` (of a record owned by partner ``owner``) show."""
        key = f"{field_class}:{owner}"
        if key not in self._may:
            self._may[key] = permissions.may_see(self.actor, field_class, owner)
        return self._may[key]

    def _person(self, person: Any, owner: str | None) -> ContactView | None:
        """A person in clear, under a pseudonym (evaluators), or None (not to be shown)."""
        if self.may_see(PERSONAL, owner):
            return ContactView(
                str(person.person_id),
                person.name,
                person.role,
                person.email,
                person.phone,
                person.erased,
            )
        if permissions.field_access(self.actor, PERSONAL) == "pseudonym":
            alias = permissions.pseudonym(self.actor, str(person.person_id))
            return ContactView(alias, alias, person.role, "", "", person.erased)
        return None

    def shown(self, subject: str | None) -> str | None:
        """An actor or person as the caller may see them (evaluators: a stable pseudonym)."""
        return None if subject is None else permissions.pseudonym(self.actor, subject)

    def in_scope(self, partner_id: object) -> bool:
        return self.scope is None or str(partner_id) in self.scope

    def _visible(self, partner_ids: Iterable[object]) -> tuple[str, ...]:
        return tuple(str(p) for p in partner_ids if self.in_scope(p))

    # ---- partners -------------------------------------------------------------------

    def partner_page(
        self, partner_filter: PartnerFilter, first: int, after: PartnerKey | None
    ) -> tuple[list[PartnerView], PartnerPage]:
        self.check(READ_PARTNERS)
        page = list_partners(self.store, partner_filter, first=first, after=after, scope=self.scope)
        self._read((r.partner_id for r in page.rows), READ_PARTNERS)
        internal = self.may_see(INTERNAL)
        return [PartnerView.from_row(r, internal) for r in page.rows], page

    def partners(self, partner_ids: Sequence[str]) -> dict[str, PartnerView]:
        self.check(READ_PARTNER)
        rows = load_partners(self.store, partner_ids, scope=self.scope)
        self._read(rows, READ_PARTNER)
        internal = self.may_see(INTERNAL)
        return {k: PartnerView.from_row(r, internal) for k, r in rows.items()}

    def partner(self, partner_id: UUID, as_of: datetime | None = None) -> PartnerView:
        """The partner now, or as recorded at ``as_of``; NOT_FOUND outside the caller's scope."""
        self.check(READ_PARTNER)
        if not self.in_scope(partner_id):
            raise NotFound("partner", partner_id)
        if as_of is None:
            found = self.partners([str(partner_id)]).get(str(partner_id))
            if found is None:
                raise NotFound("partner", partner_id)
            return found
        moment = instant_text(as_of)
        version = version_as_of(self.store, partner_id, moment)
        if version is None:
            raise NotFound(f"partner as recorded at {moment}", partner_id)
        self._read([partner_id], READ_PARTNER)
        partner = self.registry.get_partner(partner_id, version)
        assessments = self.assessments_for([str(partner_id)], moment)[str(partner_id)]
        engagements = self.engagements_for([str(partner_id)], moment)[str(partner_id)]
        profile = partner.profile
        return PartnerView(
            str(partner_id),
            profile.name,
            profile.acronym,
            profile.kind,
            profile.scope,
            partner.status,
            partner.status_reason if self.may_see(INTERNAL) else None,
            tuple(profile.countries),
            tuple(profile.focus_areas),
            profile.mission_context,
            profile.external_id,
            _current_rating(assessments),
            max((e.end or e.start).end for e in engagements) if engagements else None,
            version,
            moment,
        )

    def partner_details(self, keys: Sequence[tuple[str, int]]) -> list[PartnerDetails]:
        """Former names, locations, mapping and contacts of partners at given versions."""
        self.check(READ_PARTNER)
        found = []
        for partner_id, version in keys:
            if not self.in_scope(partner_id):
                raise NotFound("partner", partner_id)
            partner = self.registry.get_partner(UUID(partner_id), version)
            found.append(self._partner_details(partner))
        self._read((k for k, _ in keys), READ_PARTNER)
        return found

    def _partner_details(self, partner: PartnerOrganisation) -> PartnerDetails:
        mapping = partner.mapping
        mapping_view = None
        if mapping is not None:
            mapping_view = ActorMappingView(
                mapping.interest,
                mapping.influence,
                mapping.stance,
                tuple(
                    RelationshipView(
                        r.kind,
                        r.counterpart,
                        r.nature,
                        str(r.partner_id) if r.partner_id and self.in_scope(r.partner_id) else None,
                    )
                    for r in mapping.relationships
                ),
            )
        owner = str(partner.id)
        shown = (self._person(c, owner) for c in partner.contacts.values())
        return PartnerDetails(
            tuple(partner.profile.former_names),
            tuple(partner.profile.locations),
            mapping_view if self.may_see(INTERNAL) else None,
            tuple(c for c in shown if c is not None),
        )

    # ---- engagements ----------------------------------------------------------------

    def engagements_for(
        self, partner_ids: Sequence[str], as_of: str | None = None
    ) -> dict[str, list[EngagementView]]:
        """Each partner's engagements, latest first; as recorded at ``as_of`` when given."""
        self.check(READ_PARTNER)
        # As recorded then: every engagement that ever named the partner (one corrected later
        # to drop it named it then), each read below at its version of that instant. A caller
        # held to some partners' records (a partner organisation) starts from the engagements
        # that name them now: one corrected to drop a partner (recorded against the wrong
        # organisation, say) is no longer that partner's record, then or now.
        ever = as_of is not None and self.scope is None
        load = engagements_ever_linked if ever else engagements_for_partners
        rows = load(self.store, partner_ids, scope=self.scope)
        self._read(rows, READ_PARTNER)
        found: dict[str, list[EngagementView]] = {}
        for partner_id, partner_rows in rows.items():
            if as_of is None:
                found[partner_id] = [self._engagement_from_row(r) for r in partner_rows]
                continue
            then = []
            for r in partner_rows:
                version = version_as_of(self.store, r["engagement_id"], as_of)
                if version is None:
                    continue
                engagement = self.registry.get_engagement(UUID(r["engagement_id"]), version)
                if UUID(partner_id) not in engagement.partner_ids:
                    continue
                view = self._engagement_from_aggregate(engagement)
                then.append(replace(view, role=_role_of(engagement, partner_id)))
            then.sort(key=lambda e: (e.start.start, e.recorded_at), reverse=True)
            found[partner_id] = then
        return found

    def engagement(self, engagement_id: UUID, version: int | None = None) -> EngagementView:
        engagement = self._engagement_aggregate(engagement_id, version)
        return self._engagement_from_aggregate(engagement)

    def engagement_details(self, keys: Sequence[tuple[str, int]]) -> list[EngagementDetailsView]:
        return [self._engagement_details(self._engagement_aggregate(UUID(i), v)) for i, v in keys]

    def _engagement_aggregate(self, engagement_id: UUID, version: int | None) -> Engagement:
        self.check(READ_PARTNER)
        engagement = self.registry.get_engagement(engagement_id, version)
        visible = self._visible(engagement.partner_ids)
        if not visible:
            raise NotFound("engagement", engagement_id)
        self._read(visible, READ_ENGAGEMENT)
        return engagement

    def _sealed(self, confidentiality: str) -> bool:
        return confidentiality in SEALED_LEVELS and not self.may_see(CONFIDENTIAL)

    def _engagement_from_row(self, r: Row) -> EngagementView:
        sealed = self._sealed(r["confidentiality"])
        start = ValidTime(date.fromisoformat(r["valid_start"]), r["valid_precision"])
        end_day = date.fromisoformat(r["valid_end"])
        return EngagementView(
            r["engagement_id"],
            r["kind"],
            r["title"],
            None if sealed else r["summary"],
            start,
            None if end_day == start.end else ValidTime(end_day),
            None if sealed else r["location"],
            r["confidentiality"],
            bool(r["non_attribution"]),
            int(r["version"]),
            r["recorded_at"],
            r.get("role"),
        )

    def _engagement_from_aggregate(self, engagement: Engagement) -> EngagementView:
        d = engagement.details
        sealed = self._sealed(d.confidentiality)
        return EngagementView(
            str(engagement.id),
            d.kind,
            d.title,
            None if sealed else d.summary,
            d.start,
            d.end,
            None if sealed else d.location,
            d.confidentiality,
            d.non_attribution,
            engagement.version,
            iso_instant(engagement.created_on),
        )

    def _engagement_details(self, engagement: Engagement) -> EngagementDetailsView:
        d = engagement.details
        sealed = self._sealed(d.confidentiality)
        people = () if sealed else (self._person(p, None) for p in d.individual_participants)
        return EngagementDetailsView(
            virtual=d.virtual,
            organising_entities=d.organising_entities,
            partners=tuple(
                EngagementPartnerView(str(p.partner_id), p.role)
                for p in d.partners
                if self.in_scope(p.partner_id)
            ),
            un_entities=d.un_entities,
            mission_components=d.mission_components,
            participants_total=d.participants.total,
            participants_women=d.participants.women,
            participants_youth=d.participants.youth,
            individual_participants=tuple(p for p in people if p is not None),
            outcomes=() if sealed else d.outcomes,
            statements=()
            if sealed
            else tuple(
                StatementView(
                    s.text, _speaker(self._person(s.speaker, None) if s.speaker else None)
                )
                for s in d.statements
            ),
            follow_ups=tuple(
                FollowUpView(str(f.follow_up_id), f.action, f.owner, f.due, f.done, f.done_on)
                for f in engagement.follow_ups.values()
            ),
        )

    # ---- risk assessments -----------------------------------------------------------

    def assessments_for(
        self, partner_ids: Sequence[str], as_of: str | None = None
    ) -> dict[str, list[AssessmentView]]:
        self.check(READ_PARTNER)
        rows = assessments_for_partners(self.store, partner_ids, scope=self.scope)
        self._read(rows, READ_PARTNER)
        found: dict[str, list[AssessmentView]] = {}
        for partner_id, partner_rows in rows.items():
            if as_of is None:
                found[partner_id] = [_assessment_from_row(r) for r in partner_rows]
                continue
            then = []
            for r in partner_rows:
                version = version_as_of(self.store, r["assessment_id"], as_of)
                if version is not None:
                    assessment = self.registry.get_risk_assessment(
                        UUID(r["assessment_id"]), version
                    )
                    then.append(_assessment_from_aggregate(assessment))
            found[partner_id] = then
        return found

    def assessment(self, assessment_id: UUID, version: int | None = None) -> AssessmentView:
        return _assessment_from_aggregate(self._assessment_aggregate(assessment_id, version))

    def assessment_details(self, keys: Sequence[tuple[str, int]]) -> list[AssessmentDetails]:
        return [self._assessment_details(self._assessment_aggregate(UUID(i), v)) for i, v in keys]

    def _assessment_aggregate(self, assessment_id: UUID, version: int | None) -> RiskAssessment:
        self.check(READ_PARTNER)
        assessment = self.registry.get_risk_assessment(assessment_id, version)
        if not self.in_scope(assessment.partner_id):
            raise NotFound("risk assessment", assessment_id)
        self._read([assessment.partner_id], READ_RISK_ASSESSMENT)
        return assessment

    def _assessment_details(self, assessment: RiskAssessment) -> AssessmentDetails:
        internal = self.may_see(INTERNAL)
        confidential = self.may_see(CONFIDENTIAL)
        return AssessmentDetails(
            risks=tuple(
                RiskView(
                    str(r.risk_id),
                    r.category,
                    r.likelihood,
                    r.impact,
                    r.score,
                    r.rating,
                    r.description if internal else None,
                    r.confidential_sources if confidential and internal else None,
                )
                for r in assessment.risks
            ),
            mitigations=tuple(
                MitigationView(str(m.mitigation_id), m.measure, m.owner, m.due, m.status)
                for m in assessment.mitigations.values()
            ),
            withdrawal_reason=(assessment.withdrawal_reason or None) if internal else None,
        )

    # ---- decisions ------------------------------------------------------------------

    def decisions_for(
        self, partner_ids: Sequence[str], as_of: str | None = None
    ) -> dict[str, list[DecisionView]]:
        self.check(READ_DECISION)
        rows = decisions_for_partners(self.store, partner_ids, scope=self.scope)
        self._read(rows, READ_DECISION)
        found: dict[str, list[DecisionView]] = {}
        for partner_id, partner_rows in rows.items():
            if as_of is None:
                found[partner_id] = [self._decision_from_row(r) for r in partner_rows]
                continue
            then = []
            for r in partner_rows:
                version = version_as_of(self.store, r["decision_id"], as_of)
                if version is not None:
                    decision = self.registry.get_decision(UUID(r["decision_id"]), version)
                    then.append(self._decision_from_aggregate(decision))
            found[partner_id] = then
        return found

    def decision(self, decision_id: UUID, version: int | None = None) -> DecisionView:
        return self._decision_from_aggregate(self._decision_aggregate(decision_id, version))

    def decision_details(self, keys: Sequence[tuple[str, int]]) -> list[DecisionDetails]:
        return [self._decision_details(self._decision_aggregate(UUID(i), v)) for i, v in keys]

    def cited_assessments(self, citations: Sequence[tuple[str, int]]) -> list[CitedAssessment]:
        """Each cited assessment exactly as it stood at the cited version, and whether it changed."""
        found = []
        for assessment_id, version in citations:
            then = self._assessment_aggregate(UUID(assessment_id), version)
            now = self._assessment_aggregate(UUID(assessment_id), None)
            found.append(
                CitedAssessment(
                    _assessment_from_aggregate(then),
                    self._assessment_details(then),
                    version,
                    now.version,
                    now.status,
                )
            )
        return found

    def _decision_aggregate(self, decision_id: UUID, version: int | None) -> DueDiligenceDecision:
        self.check(READ_DECISION)
        decision = self.registry.get_decision(decision_id, version)
        if not self.in_scope(decision.partner_id):
            raise NotFound("decision", decision_id)
        self._read([decision.partner_id], READ_DECISION)
        return decision

    def _decision_from_row(self, r: Row) -> DecisionView:
        review_due = _date(r["review_due"])
        overdue = (
            r["outcome"] in ("approved", "approved with conditions")
            and review_due is not None
            and review_due < self.today
        )
        return DecisionView(
            r["decision_id"],
            r["partner_id"],
            r["scope"],
            r["status"],
            r["outcome"],
            self.shown(r["proposer_id"]) or "",
            r["proposer_role"],
            self.shown(r["decider_id"]),
            r["decider_role"],
            review_due,
            overdue,
            int(r["version"]),
        )

    def _decision_from_aggregate(self, d: DueDiligenceDecision) -> DecisionView:
        return DecisionView(
            str(d.id),
            str(d.partner_id),
            d.scope,
            d.status,
            d.outcome,
            self.shown(d.proposer_id) or "",
            d.proposer_role,
            self.shown(d.decider_id),
            d.decider_role,
            d.review_due,
            d.is_review_overdue(self.today),
            d.version,
        )

    def _decision_details(self, d: DueDiligenceDecision) -> DecisionDetails:
        internal = self.may_see(INTERNAL)
        return DecisionDetails(
            rationale=(d.rationale or None) if internal else None,
            conditions=tuple(d.conditions),
            decided_on=d.decided_on,
            dissents=tuple(d.dissents) if internal else (),
            reviews=tuple(
                ReviewView(
                    r.outcome,
                    r.reviewed_on,
                    self.shown(r.reviewer_id) or "",
                    r.note if internal else None,
                    r.next_review_due,
                )
                for r in d.reviews
            ),
            communications=tuple(
                CommunicationView(c.channel, c.communicated_on, c.note if internal else None)
                for c in d.communications
            ),
            relied_on=tuple((str(c.assessment_id), int(c.version)) for c in d.relied_on),
        )

    # ---- timeline, history, risk register -------------------------------------------

    def timeline(
        self, timeline_filter: TimelineFilter, first: int, after: TimelineKey | None
    ) -> TimelinePage:
        self.check(READ_TIMELINE)
        page = timeline(self.store, timeline_filter, first=first, after=after, scope=self.scope)
        self._read((p for e in page.entries for p in self._visible(e.partner_ids)), READ_TIMELINE)
        return replace(page, entries=tuple(self._entry(e) for e in page.entries))

    def timelines_for(
        self, partner_ids: Sequence[str], as_of: str | None = None
    ) -> dict[str, list[TimelineEntry]]:
        self.check(READ_TIMELINE)
        found = timelines_for_partners(self.store, partner_ids, scope=self.scope)
        self._read(found, READ_TIMELINE)
        return {
            p: [self._entry(e) for e in entries if as_of is None or e.recorded_at <= as_of]
            for p, entries in found.items()
        }

    def timeline_export(self, partner_id: UUID) -> list[TimelineEntry]:
        """One partner's whole timeline for an export (CSV, JSON)."""
        self.check(EXPORT_TIMELINE)
        wanted = str(partner_id)
        if not self.in_scope(wanted) or not load_partners(self.store, [wanted], scope=self.scope):
            raise NotFound("partner", partner_id)
        found = timelines_for_partners(self.store, [wanted], scope=self.scope)[wanted]
        self._read([wanted], EXPORT_TIMELINE)
        return [self._entry(e) for e in found]

    def _entry(self, entry: TimelineEntry) -> TimelineEntry:
        reason = entry.reason if self.may_see(INTERNAL) else ""
        return replace(entry, actor_id=self.shown(entry.actor_id) or "", reason=reason)

    def history(self, record_id: UUID) -> list[HistoryEvent]:
        """Every event of one record (partner, engagement, assessment or decision)."""
        self.check(READ_HISTORY)
        events = histories(self.store, [record_id], scope=self.scope)[str(record_id)]
        if not events:
            raise NotFound("record", record_id)
        self._read(self._visible(self.record_partners(record_id)), READ_HISTORY)
        internal = self.may_see(INTERNAL)
        return [
            replace(e, actor_id=self.shown(e.actor_id) or "", reason=e.reason if internal else "")
            for e in events
        ]

    def record_partners(self, record_id: UUID) -> set[str]:
        return record_partner_ids(self.store, [record_id])[str(record_id)]

    def risk_register(self, register_filter: RiskRegisterFilter) -> list[RegisterRowView]:
        self.check(READ_RISK_REGISTER)
        rows: list[RiskRegisterRow] = risk_register(
            self.store, register_filter, today=self.today, scope=self.scope
        )
        self._read((r.partner_id for r in rows), READ_RISK_REGISTER)
        return [
            RegisterRowView(
                r.partner_id,
                r.name,
                r.kind,
                r.status,
                r.current_rating,
                tuple(_mitigation_from_row(m) for m in r.open_mitigations),
                tuple(self._decision_from_row(d) for d in r.overdue_decisions),
            )
            for r in rows
        ]

    # ---- accountability and the audit ledger ------------------------------------------

    def access_log(
        self,
        partner_id: UUID,
        start: date | datetime | None = None,
        end: date | datetime | None = None,
        limit: int = ACCESS_LOG_CAP,
    ) -> list[AccessLogEntry]:
        """Who read the partner's record, when and how (oldest first, at most ``limit``)."""
        self.check(READ_ACCESS_LOG)
        if not self.in_scope(partner_id) or not load_partners(
            self.store, [str(partner_id)], scope=self.scope
        ):
            raise NotFound("partner", partner_id)
        if start is not None and end is not None and start > end:
            raise ValidationError("from", "order", "from must not be after to")
        return access_log(
            self.store,
            partner_id,
            start,
            end,
            scope=self.scope,
            limit=max(0, min(limit, ACCESS_LOG_CAP)),
        )

    def ledger(self) -> AuditLedger:
        if self._ledger is None:
            raise NotFound("audit ledger", "ledger")
        return self._ledger()

    def verifier_key(self) -> str | None:
        """The ledger's verifier key as this server is configured (REGISTRY_LEDGER_VERIFIER_KEY,
        else the key of the ledger's signer); None when it has neither."""
        if self._verifier_key is not None:
            return self._verifier_key()
        signer = self.ledger().signer
        return None if signer is None else signer.verifier_key()

    def checkpoint(self) -> StoredCheckpoint | None:
        """The latest signed checkpoint (None until the ledger has signed one)."""
        self.check(READ_CHECKPOINT)
        return self.ledger().latest_checkpoint()

    def checkpoint_at(self, tree_size: int | None) -> StoredCheckpoint | None:
        """The signed checkpoint of ``tree_size`` leaves (latest when None), if one was made."""
        self.check(READ_CHECKPOINT)
        ledger = self.ledger()
        if tree_size is None:
            return ledger.latest_checkpoint()
        found = ledger.store.checkpoints(tree_size=tree_size)
        return found[0] if found else None

    def inclusion_proof(
        self, record_id: UUID, version: int, tree_size: int | None = None
    ) -> ProvenInclusion:
        """Proof that version ``version`` of record ``record_id`` is in a signed checkpoint's
        tree (the latest, or the one of ``tree_size``). Partner-scoped: another partner's
        event, or an event not integrated or signed yet, is NOT_FOUND."""
        self.check(READ_INCLUSION_PROOF)
        event_id = f"{record_id}:{version}"
        if self.scope is not None and not self._visible(self.record_partners(record_id)):
            raise NotFound("event", event_id)
        ledger = self.ledger()
        checkpoint = ledger.latest_checkpoint() if tree_size is None else None
        if tree_size is not None:
            found = ledger.store.checkpoints(tree_size=tree_size)
            checkpoint = found[0] if found else None
            if checkpoint is None:
                raise NotFound("signed checkpoint of tree size", tree_size)
        if checkpoint is None:
            raise NotFound("event in a signed checkpoint (not integrated yet; retry)", event_id)
        try:
            proof = ledger.inclusion_proof(
                stream_id=record_id, version=version, tree_size=checkpoint.tree_size
            )
        except EventNotInLedgerError:
            raise NotFound(
                "event in a signed checkpoint (not integrated yet; retry)", event_id
            ) from None
        return ProvenInclusion(proof, checkpoint)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ProvenConsistency:
        """Proof that the tree of ``old_size`` leaves is a prefix of the tree of ``new_size``
        (default: the latest signed checkpoint's size)."""
        self.check(READ_CONSISTENCY_PROOF)
        ledger = self.ledger()
        latest = ledger.latest_checkpoint()
        if new_size is None:
            if latest is None:
                raise NotFound("signed checkpoint", "latest")
            new_size = latest.tree_size
        if old_size < 0 or new_size < 0:
            raise ValidationError("fromSize", "min", "tree sizes are 0 or more")
        if old_size > new_size:
            raise ValidationError("fromSize", "order", "fromSize must not exceed toSize")
        if new_size > ledger.tree_size():
            raise ValidationError(
                "toSize", "max", f"the ledger has {ledger.tree_size()} leaves, not {new_size}"
            )
        try:
            proof = ledger.consistency_proof(old_size, new_size)
        except ProofError as error:
            raise ValidationError("fromSize", "proof", str(error)) from error
        found = ledger.store.checkpoints(tree_size=new_size)
        return ProvenConsistency(proof, found[0] if found else None)


def _speaker(person: ContactView | None) -> str | None:
    return None if person is None else person.name


def _role_of(engagement: Engagement, partner_id: str) -> str | None:
    roles = [p.role for p in engagement.details.partners if str(p.partner_id) == partner_id]
    return roles[0] if roles else None


def _current_rating(assessments: Sequence[AssessmentView]) -> str | None:
    finalised = [a for a in assessments if a.status == FINALISED and a.rating is not None]
    if not finalised:
        return None
    latest = max(
        finalised, key=lambda a: (a.finalised_on or date.min, rating_rank(a.rating or "low"))
    )
    return latest.rating


def _assessment_from_row(r: Row) -> AssessmentView:
    score = r["max_score"]
    return AssessmentView(
        r["assessment_id"],
        r["partner_id"],
        r["engagement_id"],
        r["title"],
        r["status"],
        None if score is None else int(score),
        r["rating"],
        _date(r["finalised_on"]),
        r["superseded_by"],
        int(r["version"]),
    )


def _assessment_from_aggregate(a: RiskAssessment) -> AssessmentView:
    top = max((r.score for r in a.risks), default=None)
    rating = None if top is None else max((r.rating for r in a.risks), key=rating_rank)
    return AssessmentView(
        str(a.id),
        str(a.partner_id),
        None if a.engagement_id is None else str(a.engagement_id),
        a.title,
        a.status,
        top,
        rating,
        None if a.finalised_on is None else a.finalised_on.start,
        None if a.superseded_by is None else str(a.superseded_by),
        a.version,
    )


def _mitigation_from_row(m: Row) -> MitigationView:
    return MitigationView(
        m["mitigation_id"], m["measure"], m["owner"], _date(m["due_on"]), m["status"]
    )


def keys_of(items: Iterable[Any]) -> list[tuple[str, int]]:
    """(id, version) pairs for loaders."""
    return [(str(i), int(v)) for i, v in items]
