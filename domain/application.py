"""PartnershipRegistry: the one application; each use case loads, changes and saves aggregates.

Commands take primitives and value objects and return a ``Recorded``: the aggregate id, its new
version and the notification position of the saved events, so a caller can wait for read models
to reach that position. Library errors are translated into the domain's typed errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    JSONTranscoder,
    Notification,
    RecordConflictError,
    Recording,
)

from domain.decision import DueDiligenceDecision, ReliedOn, cite
from domain.engagement import (
    Engagement,
    EngagementDetails,
    EngagementPartner,
    FollowUp,
    Participants,
    Statement,
)
from domain.erasure import PersonalDataErasure, erasure_id
from domain.errors import Conflict, NotFound, RegistryError, RuleViolation
from domain.partner import ActorMapping, PartnerOrganisation, Profile, Relationship
from domain.personal_data import PersonalData
from domain.ports import PersonKeys
from domain.risk_assessment import FINALISED, Mitigation, Risk, RiskAssessment
from domain.transcodings import register_domain_transcodings
from domain.valid_time import ValidTime
from domain.validation import When, due_date, valid_time
from domain.vocabulary import CLOSED, SUSPENDED

REVIEW_PERIOD_DAYS = "REGISTRY_REVIEW_PERIOD_DAYS"
SNAPSHOT_INTERVAL = "REGISTRY_SNAPSHOT_INTERVAL"
DEFAULT_REVIEW_PERIOD_DAYS = 180
DEFAULT_SNAPSHOT_INTERVAL = 50
RETRY_ATTEMPTS = 5

AGGREGATE_KINDS: dict[type[Aggregate], str] = {
    PartnerOrganisation: "partner",
    Engagement: "engagement",
    RiskAssessment: "risk assessment",
    DueDiligenceDecision: "decision",
    PersonalDataErasure: "erasure",
}

TAggregate = TypeVar("TAggregate", bound=Aggregate)


def _project(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's ``project_aggregate`` without its per-event ``isinstance`` check against a
    runtime Protocol, which cost more than applying the event (~40 us each, 2,000 per load of
    a long record). Every stored event of the registry is an ``Aggregate.Event`` with ``mutate``.
    """
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


@dataclass(frozen=True)
class Recorded:
    """What a command recorded: the record's id and new version, and the log position reached.

    ``item_id`` names the part a command added inside the record (contact person, follow-up,
    risk or mitigation), when it added one.
    """

    id: UUID
    version: int
    position: int
    item_id: UUID | None = None


PartnerRole = EngagementPartner | tuple[UUID, str]
Citation = UUID | tuple[UUID, int]


class PartnershipRegistry(Application[UUID]):
    """Partners, engagements, risk assessments, due-diligence decisions and erasures."""

    # Non-empty so the library enables the snapshot store; __init__ sets the real intervals.
    snapshotting_intervals = dict.fromkeys(AGGREGATE_KINDS, DEFAULT_SNAPSHOT_INTERVAL)

    def __init__(
        self, env: dict[str, str] | None = None, person_keys: PersonKeys | None = None
    ) -> None:
        super().__init__(env)
        self.person_keys = person_keys
        self.review_period_days = int(
            self.env.get(REVIEW_PERIOD_DAYS) or DEFAULT_REVIEW_PERIOD_DAYS
        )
        interval = int(self.env.get(SNAPSHOT_INTERVAL) or DEFAULT_SNAPSHOT_INTERVAL)
        intervals = dict.fromkeys(AGGREGATE_KINDS, interval) if interval > 0 else {}
        # The library reads this class variable per instance when it saves; the interval
        # comes from this instance's environment, so it is set on the instance.
        object.__setattr__(self, "snapshotting_intervals", intervals)

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """Record the events and the snapshots they make due: in one transaction when the
        recorder offers it (``records_snapshots``: one commit instead of two), else the events
        then the snapshots, as the library does.

        Snapshots are of the saved aggregates themselves, not of a copy reloaded from the
        store: the library reloads each aggregate at every interval version an event of the
        save reaches (decrypting and decoding up to an interval of events); the aggregate in
        memory is that same state, just recorded. A save that reaches an interval version
        snapshots the aggregate once, at its version after the save (a multiple of the
        interval for one-event commands; past it for a save of many events).
        """
        due = self._snapshots_due(processing_event)
        if not due:
            return super()._record(processing_event)
        if self.snapshots is None or not getattr(self.recorder, "records_snapshots", False):
            recordings = super()._record(processing_event)
            if self.snapshots is not None:
                self.snapshots.put(due)
            return recordings
        # EventStore.put (eventsourcing 9.5.6), with the snapshots mapped after the events (the
        # mapper lets go of the events a snapshot covers) and recorded in their transaction.
        events = processing_event.events
        to_stored = self.events.mapper.to_stored_event
        stored_events = [to_stored(event) for event in events]
        stored_snapshots = [self.snapshots.mapper.to_stored_event(s) for s in due]
        ids = self.recorder.insert_events(
            stored_events,
            tracking=processing_event.tracking,
            snapshots=stored_snapshots,
            **processing_event.saved_kwargs,
        )
        if self.repository.cache and not self.repository.fastforward:  # as the library's
            for aggregate_id, aggregate in processing_event.aggregates.items():
                self.repository.cache.put(aggregate_id, aggregate)
        if not ids:
            return []
        return [
            Recording(
                event,
                Notification(
                    originator_id=stored.originator_id,
                    originator_version=stored.originator_version,
                    topic=stored.topic,
                    state=stored.state,
                    id=notification_id,
                ),
            )
            for event, stored, notification_id in zip(events, stored_events, ids, strict=True)
        ]

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Nothing: ``_record`` records the snapshots a save makes due."""
        del processing_event

    def _snapshots_due(self, processing_event: ProcessingEvent[UUID]) -> list[Any]:
        """Snapshots of the aggregates this save takes to an interval version (or past it)."""
        if self.snapshots is None or not self.snapshotting_intervals:
            return []
        due: dict[UUID, Any] = {}
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            if aggregate is None:
                continue
            interval = self.snapshotting_intervals.get(type(aggregate))
            if interval and event.originator_version % interval == 0:
                due[aggregate.id] = aggregate
        return [self._snapshot_class(a).take(a) for a in due.values()]

    def _snapshot_class(self, aggregate: Any) -> Any:
        return getattr(type(aggregate), "Snapshot", type(self).snapshot_class)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)

    # ---- partners -------------------------------------------------------------------

    def register_partner(
        self,
        name: str,
        kind: str,
        scope: str,
        *,
        acronym: str = "",
        former_names: Sequence[str] = (),
        countries: Sequence[str] = (),
        locations: Sequence[str] = (),
        mission_context: str = "",
        focus_areas: Sequence[str] = (),
        external_id: str = "",
        on: When = None,
        record_id: UUID | None = None,
    ) -> Recorded:
        """Register a partner; ``record_id`` fixes its id (idempotent imports), else a new one."""
        profile = Profile(
            name, kind, scope, acronym, tuple(former_names), tuple(countries), tuple(locations),
            mission_context, tuple(focus_areas), external_id,
        )  # fmt: skip
        when = valid_time(on)
        return self._save(PartnerOrganisation.register(profile, when, record_id))

    def update_profile(
        self,
        partner_id: UUID,
        name: str,
        kind: str,
        scope: str,
        *,
        acronym: str = "",
        former_names: Sequence[str] = (),
        countries: Sequence[str] = (),
        locations: Sequence[str] = (),
        mission_context: str = "",
        focus_areas: Sequence[str] = (),
        external_id: str = "",
        on: When = None,
    ) -> Recorded:
        """Replace the partner's profile as a whole; a changed name joins the former names."""
        profile = Profile(
            name, kind, scope, acronym, tuple(former_names), tuple(countries), tuple(locations),
            mission_context, tuple(focus_areas), external_id,
        )  # fmt: skip
        when = valid_time(on)
        partner = self.get_partner(partner_id)
        partner.update_profile(profile, when)
        return self._save(partner)

    def update_actor_mapping(
        self,
        partner_id: UUID,
        interest: int,
        influence: int,
        *,
        stance: str = "unknown",
        relationships: Sequence[Relationship] = (),
        on: When = None,
    ) -> Recorded:
        mapping = ActorMapping(interest, influence, stance, tuple(relationships))
        when = valid_time(on)
        partner = self.get_partner(partner_id)
        partner.update_actor_mapping(mapping, when)
        return self._save(partner)

    def add_contact_person(
        self,
        partner_id: UUID,
        name: str,
        *,
        role: str = "",
        email: str = "",
        phone: str = "",
        person_id: UUID | None = None,
        on: When = None,
    ) -> Recorded:
        """Add a contact person; ``Recorded.item_id`` is their person id (new unless given)."""
        contact = PersonalData(person_id or uuid4(), name, role, email, phone)
        when = valid_time(on)

        def attempt() -> Recorded:
            partner = self.get_partner(partner_id)
            partner.add_contact_person(contact, when)
            return self._save(partner, item_id=contact.person_id)

        return self._retrying(attempt)

    def remove_contact_person(
        self, partner_id: UUID, person_id: UUID, *, on: When = None
    ) -> Recorded:
        when = valid_time(on)
        partner = self.get_partner(partner_id)
        partner.remove_contact_person(person_id, when)
        return self._save(partner)

    def activate_partner(self, partner_id: UUID, *, on: When = None) -> Recorded:
        when = valid_time(on)
        partner = self.get_partner(partner_id)
        partner.activate(when)
        return self._save(partner)

    def suspend_partner(self, partner_id: UUID, reason: str, *, on: When = None) -> Recorded:
        when = valid_time(on)
        partner = self.get_partner(partner_id)
        partner.suspend(reason, when)
        return self._save(partner)

    def reinstate_partner(self, partner_id: UUID, reason: str, *, on: When = None) -> Recorded:
        when = valid_time(on)
        partner = self.get_partner(partner_id)
        partner.reinstate(reason, when)
        return self._save(partner)

    def close_partner(self, partner_id: UUID, reason: str, *, on: When = None) -> Recorded:
        when = valid_time(on)
        partner = self.get_partner(partner_id)
        partner.close(reason, when)
        return self._save(partner)

    # ---- engagements ----------------------------------------------------------------

    def record_engagement(
        self,
        kind: str,
        title: str,
        on: When,
        *,
        end: When = None,
        location: str = "",
        virtual: bool = False,
        organising_entities: Sequence[str] = (),
        partners: Sequence[PartnerRole] = (),
        un_entities: Sequence[str] = (),
        mission_components: Sequence[str] = (),
        participants: Participants | None = None,
        individual_participants: Sequence[PersonalData] = (),
        summary: str = "",
        outcomes: Sequence[str] = (),
        statements: Sequence[Statement] = (),
        non_attribution: bool = False,
        confidentiality: str = "internal",
        override_reason: str | None = None,
        record_id: UUID | None = None,
    ) -> Recorded:
        """Record an engagement; suspended partners need an HRO's ``override_reason``."""
        details = EngagementDetails(
            kind=kind,
            title=title,
            start=valid_time(on, "start"),
            end=None if end is None else valid_time(end, "end"),
            location=location,
            virtual=virtual,
            organising_entities=tuple(organising_entities),
            partners=tuple(_engagement_partner(p) for p in partners),
            un_entities=tuple(un_entities),
            mission_components=tuple(mission_components),
            participants=participants or Participants(),
            individual_participants=tuple(individual_participants),
            summary=summary,
            outcomes=tuple(outcomes),
            statements=tuple(statements),
            non_attribution=non_attribution,
            confidentiality=confidentiality,
        )
        checked = details.checked()
        suspended = self._suspended_among(checked.partner_ids)
        return self._save(Engagement.record(checked, suspended, override_reason, record_id))

    def correct_engagement(
        self,
        engagement_id: UUID,
        reason: str,
        *,
        override_reason: str | None = None,
        **changes: Any,
    ) -> Recorded:
        """Correct some fields (named as in ``EngagementDetails``) with a reason."""
        if "start" in changes:
            changes["start"] = valid_time(changes["start"], "start")
        if changes.get("end") is not None:
            changes["end"] = valid_time(changes["end"], "end")
        if "partners" in changes:
            changes["partners"] = tuple(_engagement_partner(p) for p in changes["partners"])
        for name, value in changes.items():
            if isinstance(value, list):
                changes[name] = tuple(value)
        engagement = self.get_engagement(engagement_id)
        added = tuple(
            p.partner_id
            for p in changes.get("partners", ())
            if p.partner_id not in engagement.partner_ids
        )
        suspended = self._suspended_among(tuple(dict.fromkeys(added)))
        engagement.correct(changes, reason, suspended, override_reason)
        return self._save(engagement)

    def add_follow_up(
        self,
        engagement_id: UUID,
        action: str,
        owner: str,
        *,
        due: date | str | None = None,
    ) -> Recorded:
        follow_up = FollowUp(uuid4(), action, owner, due_date(due, "due"))

        def attempt() -> Recorded:
            engagement = self.get_engagement(engagement_id)
            engagement.add_follow_up(follow_up)
            return self._save(engagement, item_id=follow_up.follow_up_id)

        return self._retrying(attempt)

    def complete_follow_up(
        self, engagement_id: UUID, follow_up_id: UUID, *, on: When = None
    ) -> Recorded:
        when = valid_time(on)
        engagement = self.get_engagement(engagement_id)
        engagement.complete_follow_up(follow_up_id, when)
        return self._save(engagement)

    # ---- risk assessments -----------------------------------------------------------

    def open_risk_assessment(
        self,
        partner_id: UUID,
        *,
        engagement_id: UUID | None = None,
        title: str = "",
        on: When = None,
        record_id: UUID | None = None,
    ) -> Recorded:
        when = valid_time(on)
        partner = self.get_partner(partner_id)
        partner.check_open()
        if engagement_id is not None:
            engagement = self.get_engagement(engagement_id)
            if partner_id not in engagement.partner_ids:
                raise RuleViolation(
                    "engagement_of_partner",
                    f"engagement {engagement_id} does not involve partner {partner_id}",
                    "engagement_id",
                )
        return self._save(RiskAssessment.open(partner_id, when, engagement_id, title, record_id))

    def add_risk(
        self,
        assessment_id: UUID,
        category: str,
        likelihood: int,
        impact: int,
        description: str,
        *,
        confidential_sources: str = "",
    ) -> Recorded:
        risk = Risk(uuid4(), category, likelihood, impact, description, confidential_sources)

        def attempt() -> Recorded:
            assessment = self.get_risk_assessment(assessment_id)
            assessment.add_risk(risk)
            return self._save(assessment, item_id=risk.risk_id)

        return self._retrying(attempt)

    def add_mitigation(
        self,
        assessment_id: UUID,
        measure: str,
        owner: str,
        *,
        due: date | str | None = None,
        status: str = "planned",
    ) -> Recorded:
        mitigation = Mitigation(uuid4(), measure, owner, due_date(due, "due"), status)

        def attempt() -> Recorded:
            assessment = self.get_risk_assessment(assessment_id)
            assessment.add_mitigation(mitigation)
            return self._save(assessment, item_id=mitigation.mitigation_id)

        return self._retrying(attempt)

    def update_mitigation_status(
        self, assessment_id: UUID, mitigation_id: UUID, status: str, *, on: When = None
    ) -> Recorded:
        when = valid_time(on)
        assessment = self.get_risk_assessment(assessment_id)
        assessment.update_mitigation_status(mitigation_id, status, when)
        return self._save(assessment)

    def submit_risk_assessment(self, assessment_id: UUID, *, on: When = None) -> Recorded:
        when = valid_time(on)
        assessment = self.get_risk_assessment(assessment_id)
        assessment.submit(when)
        return self._save(assessment)

    def finalise_risk_assessment(self, assessment_id: UUID, *, on: When = None) -> Recorded:
        when = valid_time(on)
        assessment = self.get_risk_assessment(assessment_id)
        assessment.finalise(when)
        return self._save(assessment)

    def supersede_risk_assessment(
        self, assessment_id: UUID, superseded_by: UUID, *, on: When = None
    ) -> Recorded:
        when = valid_time(on)
        assessment = self.get_risk_assessment(assessment_id)
        assessment.supersede(self.get_risk_assessment(superseded_by), when)
        return self._save(assessment)

    def withdraw_risk_assessment(
        self, assessment_id: UUID, reason: str, *, on: When = None
    ) -> Recorded:
        when = valid_time(on)
        assessment = self.get_risk_assessment(assessment_id)
        assessment.withdraw(reason, when)
        return self._save(assessment)

    # ---- due-diligence decisions ----------------------------------------------------

    def propose_decision(
        self,
        partner_id: UUID,
        scope: str,
        relied_on: Sequence[Citation],
        *,
        reason: str = "",
        on: When = None,
        record_id: UUID | None = None,
    ) -> Recorded:
        """Propose a decision citing finalised assessments as ids (now) or (id, version) pairs."""
        when = valid_time(on)
        self.get_partner(partner_id).check_open()
        citations = self._cite(partner_id, relied_on, when)
        return self._save(
            DueDiligenceDecision.propose(partner_id, scope, citations, when, reason, record_id)
        )

    def decide(
        self,
        decision_id: UUID,
        outcome: str,
        rationale: str,
        *,
        conditions: Sequence[str] = (),
        review_due: date | str | None = None,
        on: When = None,
    ) -> Recorded:
        when = valid_time(on)
        due = due_date(review_due, "review_due")
        decision = self.get_decision(decision_id)
        still_finalised = frozenset(
            cited.assessment_id
            for cited in decision.relied_on
            if self.get_risk_assessment(cited.assessment_id).was_finalised_on(when.start)
        )
        decision.decide(
            outcome, rationale, when, self.review_period_days, still_finalised,
            tuple(conditions), due,
        )  # fmt: skip
        return self._save(decision)

    def record_dissent(self, decision_id: UUID, dissent: str, *, on: When = None) -> Recorded:
        when = valid_time(on)
        decision = self.get_decision(decision_id)
        decision.record_dissent(dissent, when)
        return self._save(decision)

    def record_communication(
        self, decision_id: UUID, channel: str, *, note: str = "", on: When = None
    ) -> Recorded:
        when = valid_time(on)
        decision = self.get_decision(decision_id)
        decision.record_communication(channel, when, note)
        return self._save(decision)

    def review_decision(
        self,
        decision_id: UUID,
        outcome: str,
        note: str,
        *,
        relied_on: Sequence[Citation] = (),
        next_review_due: date | str | None = None,
        on: When = None,
    ) -> Recorded:
        when = valid_time(on)
        due = due_date(next_review_due, "next_review_due")
        decision = self.get_decision(decision_id)
        citations = self._cite(decision.partner_id, relied_on, when)
        if due is None and outcome.startswith("continue"):
            # A decision that continues is reviewed again one review period later.
            due = when.start + timedelta(days=self.review_period_days)
        decision.review(outcome, note, when, citations, due)
        return self._save(decision)

    # ---- personal data --------------------------------------------------------------

    def erase_personal_data(self, person_id: UUID, reason: str) -> Recorded:
        """Record the erasure of a person's data, then destroy their key (crypto-shredding)."""
        if self.person_keys is None:
            raise RegistryError(
                "erasure needs the person key store: construct PartnershipRegistry with person_keys"
            )
        erasure = PersonalDataErasure.erase(person_id, reason)
        if self.is_erased(person_id):
            raise RuleViolation("already_erased", f"person {person_id} was already erased")
        recorded = self._save(erasure)
        self.person_keys.destroy(person_id)
        return recorded

    def is_erased(self, person_id: UUID) -> bool:
        try:
            self._get(erasure_id(person_id), PersonalDataErasure)
        except NotFound:
            return False
        return True

    # ---- reading --------------------------------------------------------------------

    def get_partner(self, partner_id: UUID, version: int | None = None) -> PartnerOrganisation:
        return self._get(partner_id, PartnerOrganisation, version)

    def get_engagement(self, engagement_id: UUID, version: int | None = None) -> Engagement:
        return self._get(engagement_id, Engagement, version)

    def get_risk_assessment(
        self, assessment_id: UUID, version: int | None = None
    ) -> RiskAssessment:
        return self._get(assessment_id, RiskAssessment, version)

    def get_decision(self, decision_id: UUID, version: int | None = None) -> DueDiligenceDecision:
        return self._get(decision_id, DueDiligenceDecision, version)

    def max_position(self) -> int:
        """The notification id of the newest stored event (0 when the store is empty)."""
        return self.recorder.max_notification_id() or 0

    # ---- internals ------------------------------------------------------------------

    def _get(
        self, aggregate_id: UUID, kind: type[TAggregate], version: int | None = None
    ) -> TAggregate:
        name = AGGREGATE_KINDS.get(kind, kind.__name__)
        if not isinstance(aggregate_id, UUID):
            raise NotFound(name, aggregate_id)
        if version is not None and version < 1:
            raise NotFound(f"{name} version", version)
        try:
            found: Aggregate = self.repository.get(
                aggregate_id, version=version, projector_func=_project
            )
        except AggregateNotFoundError:
            raise NotFound(name, aggregate_id) from None
        if not isinstance(found, kind):
            raise NotFound(name, aggregate_id)
        return found

    def _save(self, *aggregates: Aggregate, item_id: UUID | None = None) -> Recorded:
        try:
            recordings = self.save(*aggregates)
        except RecordConflictError as error:
            raise Conflict(
                "the record was changed by someone else meanwhile; reload it and try again"
            ) from error
        first = aggregates[0]
        position = max((r.notification.id for r in recordings), default=self.max_position())
        return Recorded(first.id, first.version, position, item_id)

    def _retrying(self, attempt: Callable[[], Recorded]) -> Recorded:
        """Run a command that commutes with others, reloading and reapplying after a conflict."""
        for _ in range(RETRY_ATTEMPTS - 1):
            try:
                return attempt()
            except Conflict:
                continue
        return attempt()

    def _suspended_among(self, partner_ids: tuple[UUID, ...]) -> tuple[UUID, ...]:
        suspended = []
        for partner_id in partner_ids:
            partner = self.get_partner(partner_id)
            if partner.status == CLOSED:
                raise RuleViolation("partner_closed", f"partner {partner_id} is closed", "partners")
            if partner.status == SUSPENDED:
                suspended.append(partner_id)
        return tuple(suspended)

    def _cite(
        self, partner_id: UUID, relied_on: Sequence[Citation], when: ValidTime
    ) -> tuple[ReliedOn, ...]:
        """Cite each assessment at the given version, or as it stood finalised on ``when``."""
        citations = []
        for index, citation in enumerate(relied_on):
            assessment_id, version = citation if isinstance(citation, tuple) else (citation, None)
            assessment = self.get_risk_assessment(assessment_id, version)
            if version is not None and assessment.version != version:
                raise NotFound("risk assessment version", f"{assessment_id}@{version}")
            if (
                version is None
                and assessment.status != FINALISED
                and assessment.was_finalised_on(when.start)
            ):
                # Superseded or withdrawn after ``when``: cite it as it stood before that.
                assessment = self.get_risk_assessment(assessment_id, assessment.version - 1)
            citations.append(cite(assessment, partner_id, f"relied_on[{index}]"))
        return tuple(citations)


def _engagement_partner(value: PartnerRole) -> EngagementPartner:
    if isinstance(value, EngagementPartner):
        return value
    partner_id, role = value
    return EngagementPartner(partner_id, role)
