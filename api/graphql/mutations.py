"""Mutations: one per registry command; each returns the changed object once the views show it."""

from __future__ import annotations

import asyncio
from datetime import date
from uuid import UUID

import strawberry

from api.graphql import ids
from api.graphql.context import Info
from api.graphql.described import described_mutation
from api.graphql.inputs import (
    CitationInput,
    EngagementCorrectionInput,
    EngagementInput,
    RelationshipInput,
)
from api.graphql.types.decision import Decision
from api.graphql.types.engagement import Engagement
from api.graphql.types.erasure import Erasure
from api.graphql.types.partner import Partner
from api.graphql.types.risk_assessment import RiskAssessment
from domain.application import Recorded


async def _partner(info: Info, recorded: Recorded) -> Partner:
    view = await asyncio.to_thread(info.context.reader.partner, recorded.id)
    return Partner.from_view(view)


async def _engagement(info: Info, recorded: Recorded) -> Engagement:
    view = await asyncio.to_thread(info.context.reader.engagement, recorded.id)
    return Engagement.from_view(view)


async def _assessment(info: Info, recorded: Recorded) -> RiskAssessment:
    view = await asyncio.to_thread(info.context.reader.assessment, recorded.id)
    return RiskAssessment.from_view(view)


async def _decision(info: Info, recorded: Recorded) -> Decision:
    view = await asyncio.to_thread(info.context.reader.decision, recorded.id)
    return Decision.from_view(view)


def _partner_id(value: strawberry.ID) -> UUID:
    return ids.decode(value, ids.PARTNER)


def _engagement_id(value: strawberry.ID) -> UUID:
    return ids.decode(value, ids.ENGAGEMENT)


def _assessment_id(value: strawberry.ID) -> UUID:
    return ids.decode(value, ids.RISK_ASSESSMENT)


def _decision_id(value: strawberry.ID) -> UUID:
    return ids.decode(value, ids.DECISION)


@strawberry.type
class Mutation:
    # ---- partners -------------------------------------------------------------------

    @described_mutation("Register a partner organisation.")
    async def register_partner(
        self,
        info: Info,
        name: str,
        kind: str,
        scope: str,
        acronym: str = "",
        former_names: list[str] | None = None,
        countries: list[str] | None = None,
        locations: list[str] | None = None,
        mission_context: str = "",
        focus_areas: list[str] | None = None,
        external_id: str = "",
        on: str | None = None,
    ) -> Partner:
        registry = info.context.registry
        recorded = await info.context.record(
            "registerPartner",
            lambda: registry.register_partner(
                name,
                kind,
                scope,
                acronym=acronym,
                former_names=former_names or (),
                countries=countries or (),
                locations=locations or (),
                mission_context=mission_context,
                focus_areas=focus_areas or (),
                external_id=external_id,
                on=on,
            ),
        )
        return await _partner(info, recorded)

    @described_mutation("Replace a partner's profile; a new name keeps the old one.")
    async def update_profile(
        self,
        info: Info,
        partner_id: strawberry.ID,
        name: str,
        kind: str,
        scope: str,
        acronym: str = "",
        former_names: list[str] | None = None,
        countries: list[str] | None = None,
        locations: list[str] | None = None,
        mission_context: str = "",
        focus_areas: list[str] | None = None,
        external_id: str = "",
        on: str | None = None,
    ) -> Partner:
        registry = info.context.registry
        pid = _partner_id(partner_id)
        recorded = await info.context.record(
            "updateProfile",
            lambda: registry.update_profile(
                pid,
                name,
                kind,
                scope,
                acronym=acronym,
                former_names=former_names or (),
                countries=countries or (),
                locations=locations or (),
                mission_context=mission_context,
                focus_areas=focus_areas or (),
                external_id=external_id,
                on=on,
            ),
        )
        return await _partner(info, recorded)

    @strawberry.mutation
    async def update_actor_mapping(
        self,
        info: Info,
        partner_id: strawberry.ID,
        interest: int,
        influence: int,
        stance: str = "unknown",
        relationships: list[RelationshipInput] | None = None,
        on: str | None = None,
    ) -> Partner:
        registry = info.context.registry
        pid = _partner_id(partner_id)
        relations = [r.to_domain() for r in relationships or ()]
        recorded = await info.context.record(
            "updateActorMapping",
            lambda: registry.update_actor_mapping(
                pid, interest, influence, stance=stance, relationships=relations, on=on
            ),
        )
        return await _partner(info, recorded)

    @described_mutation("Add a contact person (personal data, sealed per person).")
    async def add_contact_person(
        self,
        info: Info,
        partner_id: strawberry.ID,
        name: str,
        role: str = "",
        email: str = "",
        phone: str = "",
        on: str | None = None,
    ) -> Partner:
        registry = info.context.registry
        pid = _partner_id(partner_id)
        recorded = await info.context.record(
            "addContactPerson",
            lambda: registry.add_contact_person(
                pid, name, role=role, email=email, phone=phone, on=on
            ),
        )
        return await _partner(info, recorded)

    @strawberry.mutation
    async def remove_contact_person(
        self, info: Info, partner_id: strawberry.ID, person_id: strawberry.ID, on: str | None = None
    ) -> Partner:
        registry = info.context.registry
        pid = _partner_id(partner_id)
        person = ids.decode(person_id, ids.CONTACT_PERSON)
        recorded = await info.context.record(
            "removeContactPerson", lambda: registry.remove_contact_person(pid, person, on=on)
        )
        return await _partner(info, recorded)

    @strawberry.mutation
    async def activate_partner(
        self, info: Info, partner_id: strawberry.ID, on: str | None = None
    ) -> Partner:
        registry = info.context.registry
        pid = _partner_id(partner_id)
        recorded = await info.context.record(
            "activatePartner", lambda: registry.activate_partner(pid, on=on)
        )
        return await _partner(info, recorded)

    @strawberry.mutation
    async def suspend_partner(
        self, info: Info, partner_id: strawberry.ID, reason: str, on: str | None = None
    ) -> Partner:
        registry = info.context.registry
        pid = _partner_id(partner_id)
        recorded = await info.context.record(
            "suspendPartner", lambda: registry.suspend_partner(pid, reason, on=on)
        )
        return await _partner(info, recorded)

    @strawberry.mutation
    async def reinstate_partner(
        self, info: Info, partner_id: strawberry.ID, reason: str, on: str | None = None
    ) -> Partner:
        registry = info.context.registry
        pid = _partner_id(partner_id)
        recorded = await info.context.record(
            "reinstatePartner", lambda: registry.reinstate_partner(pid, reason, on=on)
        )
        return await _partner(info, recorded)

    @strawberry.mutation
    async def close_partner(
        self, info: Info, partner_id: strawberry.ID, reason: str, on: str | None = None
    ) -> Partner:
        registry = info.context.registry
        pid = _partner_id(partner_id)
        recorded = await info.context.record(
            "closePartner", lambda: registry.close_partner(pid, reason, on=on)
        )
        return await _partner(info, recorded)

    # ---- engagements ----------------------------------------------------------------

    @described_mutation("Record an engagement (suspended partners: HRO override).")
    async def record_engagement(
        self,
        info: Info,
        input: EngagementInput,
        override_reason: str | None = None,
    ) -> Engagement:
        registry = info.context.registry
        e = input
        partners = [p.to_domain() for p in e.partners or ()]
        people = [p.to_domain() for p in e.individual_participants or ()]
        statements = [s.to_domain() for s in e.statements or ()]
        participants = None if e.participants is None else e.participants.to_domain()
        recorded = await info.context.record(
            "recordEngagement",
            lambda: registry.record_engagement(
                e.kind,
                e.title,
                e.on,
                end=e.end,
                location=e.location,
                virtual=e.virtual,
                organising_entities=e.organising_entities or (),
                partners=partners,
                un_entities=e.un_entities or (),
                mission_components=e.mission_components or (),
                participants=participants,
                individual_participants=people,
                summary=e.summary,
                outcomes=e.outcomes or (),
                statements=statements,
                non_attribution=e.non_attribution,
                confidentiality=e.confidentiality,
                override_reason=override_reason,
            ),
        )
        return await _engagement(info, recorded)

    @described_mutation("Correct some fields of an engagement, with a reason.")
    async def correct_engagement(
        self,
        info: Info,
        engagement_id: strawberry.ID,
        reason: str,
        changes: EngagementCorrectionInput,
        override_reason: str | None = None,
    ) -> Engagement:
        registry = info.context.registry
        eid = _engagement_id(engagement_id)
        fields = changes.changes()
        recorded = await info.context.record(
            "correctEngagement",
            lambda: registry.correct_engagement(
                eid, reason, override_reason=override_reason, **fields
            ),
        )
        return await _engagement(info, recorded)

    @strawberry.mutation
    async def add_follow_up(
        self,
        info: Info,
        engagement_id: strawberry.ID,
        action: str,
        owner: str,
        due: date | None = None,
    ) -> Engagement:
        registry = info.context.registry
        eid = _engagement_id(engagement_id)
        recorded = await info.context.record(
            "addFollowUp", lambda: registry.add_follow_up(eid, action, owner, due=due)
        )
        return await _engagement(info, recorded)

    @strawberry.mutation
    async def complete_follow_up(
        self,
        info: Info,
        engagement_id: strawberry.ID,
        follow_up_id: strawberry.ID,
        on: str | None = None,
    ) -> Engagement:
        registry = info.context.registry
        eid = _engagement_id(engagement_id)
        fid = ids.decode(follow_up_id, ids.FOLLOW_UP)
        recorded = await info.context.record(
            "completeFollowUp", lambda: registry.complete_follow_up(eid, fid, on=on)
        )
        return await _engagement(info, recorded)

    # ---- risk assessments -----------------------------------------------------------

    @strawberry.mutation
    async def open_risk_assessment(
        self,
        info: Info,
        partner_id: strawberry.ID,
        engagement_id: strawberry.ID | None = None,
        title: str = "",
        on: str | None = None,
    ) -> RiskAssessment:
        registry = info.context.registry
        pid = _partner_id(partner_id)
        eid = None if engagement_id is None else _engagement_id(engagement_id)
        recorded = await info.context.record(
            "openRiskAssessment",
            lambda: registry.open_risk_assessment(pid, engagement_id=eid, title=title, on=on),
        )
        return await _assessment(info, recorded)

    @strawberry.mutation
    async def add_risk(
        self,
        info: Info,
        assessment_id: strawberry.ID,
        category: str,
        likelihood: int,
        impact: int,
        description: str,
        confidential_sources: str = "",
    ) -> RiskAssessment:
        registry = info.context.registry
        aid = _assessment_id(assessment_id)
        recorded = await info.context.record(
            "addRisk",
            lambda: registry.add_risk(
                aid,
                category,
                likelihood,
                impact,
                description,
                confidential_sources=confidential_sources,
            ),
        )
        return await _assessment(info, recorded)

    @strawberry.mutation
    async def add_mitigation(
        self,
        info: Info,
        assessment_id: strawberry.ID,
        measure: str,
        owner: str,
        due: date | None = None,
        status: str = "planned",
    ) -> RiskAssessment:
        registry = info.context.registry
        aid = _assessment_id(assessment_id)
        recorded = await info.context.record(
            "addMitigation",
            lambda: registry.add_mitigation(aid, measure, owner, due=due, status=status),
        )
        return await _assessment(info, recorded)

    @strawberry.mutation
    async def update_mitigation_status(
        self,
        info: Info,
        assessment_id: strawberry.ID,
        mitigation_id: strawberry.ID,
        status: str,
        on: str | None = None,
    ) -> RiskAssessment:
        registry = info.context.registry
        aid = _assessment_id(assessment_id)
        mid = ids.decode(mitigation_id, ids.MITIGATION)
        recorded = await info.context.record(
            "updateMitigationStatus",
            lambda: registry.update_mitigation_status(aid, mid, status, on=on),
        )
        return await _assessment(info, recorded)

    @strawberry.mutation
    async def submit_risk_assessment(
        self, info: Info, assessment_id: strawberry.ID, on: str | None = None
    ) -> RiskAssessment:
        registry = info.context.registry
        aid = _assessment_id(assessment_id)
        recorded = await info.context.record(
            "submitRiskAssessment", lambda: registry.submit_risk_assessment(aid, on=on)
        )
        return await _assessment(info, recorded)

    @strawberry.mutation
    async def finalise_risk_assessment(
        self, info: Info, assessment_id: strawberry.ID, on: str | None = None
    ) -> RiskAssessment:
        registry = info.context.registry
        aid = _assessment_id(assessment_id)
        recorded = await info.context.record(
            "finaliseRiskAssessment", lambda: registry.finalise_risk_assessment(aid, on=on)
        )
        return await _assessment(info, recorded)

    @strawberry.mutation
    async def supersede_risk_assessment(
        self,
        info: Info,
        assessment_id: strawberry.ID,
        superseded_by: strawberry.ID,
        on: str | None = None,
    ) -> RiskAssessment:
        registry = info.context.registry
        aid = _assessment_id(assessment_id)
        by = _assessment_id(superseded_by)
        recorded = await info.context.record(
            "supersedeRiskAssessment", lambda: registry.supersede_risk_assessment(aid, by, on=on)
        )
        return await _assessment(info, recorded)

    @strawberry.mutation
    async def withdraw_risk_assessment(
        self, info: Info, assessment_id: strawberry.ID, reason: str, on: str | None = None
    ) -> RiskAssessment:
        registry = info.context.registry
        aid = _assessment_id(assessment_id)
        recorded = await info.context.record(
            "withdrawRiskAssessment", lambda: registry.withdraw_risk_assessment(aid, reason, on=on)
        )
        return await _assessment(info, recorded)

    # ---- due-diligence decisions ----------------------------------------------------

    @described_mutation("Propose a decision citing finalised assessments.")
    async def propose_decision(
        self,
        info: Info,
        partner_id: strawberry.ID,
        scope: str,
        relied_on: list[CitationInput],
        reason: str = "",
        on: str | None = None,
    ) -> Decision:
        registry = info.context.registry
        pid = _partner_id(partner_id)
        citations = [c.to_domain() for c in relied_on]
        recorded = await info.context.record(
            "proposeDecision",
            lambda: registry.propose_decision(pid, scope, citations, reason=reason, on=on),  # type: ignore[arg-type]
        )
        return await _decision(info, recorded)

    @strawberry.mutation
    async def decide(
        self,
        info: Info,
        decision_id: strawberry.ID,
        outcome: str,
        rationale: str,
        conditions: list[str] | None = None,
        review_due: date | None = None,
        on: str | None = None,
    ) -> Decision:
        registry = info.context.registry
        did = _decision_id(decision_id)
        recorded = await info.context.record(
            "decide",
            lambda: registry.decide(
                did, outcome, rationale, conditions=conditions or (), review_due=review_due, on=on
            ),
        )
        return await _decision(info, recorded)

    @strawberry.mutation
    async def record_dissent(
        self, info: Info, decision_id: strawberry.ID, dissent: str, on: str | None = None
    ) -> Decision:
        registry = info.context.registry
        did = _decision_id(decision_id)
        recorded = await info.context.record(
            "recordDissent", lambda: registry.record_dissent(did, dissent, on=on)
        )
        return await _decision(info, recorded)

    @strawberry.mutation
    async def record_communication(
        self,
        info: Info,
        decision_id: strawberry.ID,
        channel: str,
        note: str = "",
        on: str | None = None,
    ) -> Decision:
        registry = info.context.registry
        did = _decision_id(decision_id)
        recorded = await info.context.record(
            "recordCommunication",
            lambda: registry.record_communication(did, channel, note=note, on=on),
        )
        return await _decision(info, recorded)

    @strawberry.mutation
    async def review_decision(
        self,
        info: Info,
        decision_id: strawberry.ID,
        outcome: str,
        note: str,
        relied_on: list[CitationInput] | None = None,
        next_review_due: date | None = None,
        on: str | None = None,
    ) -> Decision:
        registry = info.context.registry
        did = _decision_id(decision_id)
        citations = [c.to_domain() for c in relied_on or ()]
        recorded = await info.context.record(
            "reviewDecision",
            lambda: registry.review_decision(
                did,
                outcome,
                note,
                relied_on=citations,  # type: ignore[arg-type]
                next_review_due=next_review_due,
                on=on,
            ),
        )
        return await _decision(info, recorded)

    # ---- personal data --------------------------------------------------------------

    @described_mutation("Erase a person's data; decisions and the audit trail stay.")
    async def erase_personal_data(
        self, info: Info, person_id: strawberry.ID, reason: str
    ) -> Erasure:
        registry = info.context.registry
        person = ids.decode(person_id, ids.CONTACT_PERSON)
        recorded = await info.context.record(
            "erasePersonalData", lambda: registry.erase_personal_data(person, reason)
        )
        return Erasure.from_recorded(str(person), recorded)
