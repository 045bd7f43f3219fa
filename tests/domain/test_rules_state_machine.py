"""A hypothesis state machine drives the registry's commands and checks DOMAIN.md's rules.

A small model predicts, for each command, whether the registry must accept or refuse it:
engagements with suspended partners need an HRO's override, approvals need a finalised
assessment, high ratings need conditions and an HRO, significant or high ratings need a decider
other than the proposer, ratings follow likelihood x impact. After every step, every event
recorded so far is still stored byte for byte (nothing recorded changes).
"""

from __future__ import annotations

import base64
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from api.bootstrap import library_env
from api.runtime import build_registry
from api.settings import Settings
from domain.actors import HUMAN_RIGHTS_OFFICER, RECORDER, Actor, acting_as
from domain.errors import Forbidden, RegistryError, RuleViolation
from domain.risk_assessment import rating_for

PEOPLE = ("officer-a", "officer-b")
ROLES = (RECORDER, HUMAN_RIGHTS_OFFICER)
CATEGORY = "perceived partiality"


@dataclass
class AssessmentModel:
    partner: UUID
    status: str = "draft"
    scores: list[int] = field(default_factory=list)

    @property
    def rating(self) -> str | None:
        return rating_for(max(self.scores)) if self.scores else None


@dataclass
class DecisionModel:
    partner: UUID
    proposer: str
    ratings: list[str]
    outcome: str | None = None


def _actor(person: str, role: str) -> Actor:
    return Actor(person, role)


class RegistryRules(RuleBasedStateMachine):
    """Commands on a real PartnershipRegistry (SQLite file) against a model of the rules."""

    partners = Bundle("partners")
    assessments = Bundle("assessments")
    decisions = Bundle("decisions")

    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        settings_ = Settings(
            env="test",
            database_url=f"sqlite:///{Path(self.folder.name) / 'registry.db'}",
            master_key=base64.b64encode(secrets.token_bytes(32)).decode(),
        )
        assert library_env(settings_)
        self.registry = build_registry(settings_)
        self.statuses: dict[UUID, str] = {}
        self.assessment_models: dict[UUID, AssessmentModel] = {}
        self.decision_models: dict[UUID, DecisionModel] = {}
        self.stored: dict[tuple[UUID, int], bytes] = {}
        self.today = date.today()

    def teardown(self) -> None:
        self.registry.close()
        self.folder.cleanup()

    def _expect(self, allowed: bool, command: Callable[[], object]) -> object:
        """Run ``command``; it must succeed when ``allowed``, else raise a typed refusal."""
        refusal: RegistryError | None = None
        try:
            result = command()
        except (RuleViolation, Forbidden) as error:
            refusal = error
        if refusal is not None:
            assert not allowed, f"refused but the rules allow it: {refusal}"
            return None
        assert allowed, "accepted but the rules forbid it"
        return result

    # ---- partners ---------------------------------------------------------------------

    @rule(target=partners, name=st.text(min_size=1, max_size=20).filter(str.strip))
    def register(self, name: str) -> UUID:
        with acting_as(_actor("officer-a", RECORDER)):
            found = self.registry.register_partner(name, "local CSO", "local").id
        self.statuses[found] = "registered"
        return found

    @rule(partner=partners)
    def activate(self, partner: UUID) -> None:
        allowed = self.statuses[partner] == "registered"
        with acting_as(_actor("officer-a", RECORDER)):
            if self._expect(allowed, lambda: self.registry.activate_partner(partner)):
                self.statuses[partner] = "active"

    @rule(partner=partners)
    def suspend(self, partner: UUID) -> None:
        allowed = self.statuses[partner] not in ("suspended", "closed")
        with acting_as(_actor("officer-b", HUMAN_RIGHTS_OFFICER)):
            if self._expect(allowed, lambda: self.registry.suspend_partner(partner, "reprisals")):
                self.statuses[partner] = "suspended"

    @rule(partner=partners)
    def reinstate(self, partner: UUID) -> None:
        allowed = self.statuses[partner] == "suspended"
        with acting_as(_actor("officer-b", HUMAN_RIGHTS_OFFICER)):
            if self._expect(allowed, lambda: self.registry.reinstate_partner(partner, "reviewed")):
                self.statuses[partner] = "reinstated"

    @rule(
        partner=partners,
        role=st.sampled_from(ROLES),
        override=st.sampled_from([None, "", "protection of civilians requires it"]),
    )
    def engage(self, partner: UUID, role: str, override: str | None) -> None:
        """Suspended partner: refused unless an HRO overrides with a reason."""
        suspended = self.statuses[partner] == "suspended"
        allowed = not suspended or (role == HUMAN_RIGHTS_OFFICER and bool(override))
        with acting_as(_actor("officer-a", role)):
            self._expect(
                allowed,
                lambda: self.registry.record_engagement(
                    "dialogue meeting",
                    "Community dialogue",
                    self.today.isoformat(),
                    partners=[(partner, "participant")],
                    override_reason=override,
                ),
            )

    # ---- risk assessments -------------------------------------------------------------

    @rule(target=assessments, partner=partners)
    def open_assessment(self, partner: UUID) -> UUID:
        with acting_as(_actor("officer-b", HUMAN_RIGHTS_OFFICER)):
            found = self.registry.open_risk_assessment(partner).id
        self.assessment_models[found] = AssessmentModel(partner)
        return found

    @rule(
        assessment=assessments,
        likelihood=st.integers(1, 5),
        impact=st.integers(1, 5),
    )
    def add_risk(self, assessment: UUID, likelihood: int, impact: int) -> None:
        model = self.assessment_models[assessment]
        allowed = model.status == "draft"
        with acting_as(_actor("officer-b", HUMAN_RIGHTS_OFFICER)):
            recorded = self._expect(
                allowed,
                lambda: self.registry.add_risk(
                    assessment, CATEGORY, likelihood, impact, "threats after meetings"
                ),
            )
        if recorded is not None:
            model.scores.append(likelihood * impact)

    @rule(assessment=assessments)
    def submit(self, assessment: UUID) -> None:
        model = self.assessment_models[assessment]
        allowed = model.status == "draft" and bool(model.scores)
        with acting_as(_actor("officer-b", HUMAN_RIGHTS_OFFICER)):
            if self._expect(allowed, lambda: self.registry.submit_risk_assessment(assessment)):
                model.status = "submitted"

    @rule(assessment=assessments, role=st.sampled_from(ROLES))
    def finalise(self, assessment: UUID, role: str) -> None:
        model = self.assessment_models[assessment]
        allowed = model.status == "submitted" and role == HUMAN_RIGHTS_OFFICER
        with acting_as(_actor("officer-b", role)):
            if self._expect(allowed, lambda: self.registry.finalise_risk_assessment(assessment)):
                model.status = "finalised"
        if model.status == "finalised":
            found = self.registry.get_risk_assessment(assessment)
            assert found.rating == model.rating

    # ---- decisions --------------------------------------------------------------------

    @rule(
        target=decisions,
        partner=partners,
        proposer=st.sampled_from(PEOPLE),
        cite=st.booleans(),
    )
    def propose(self, partner: UUID, proposer: str, cite: bool) -> UUID:
        finalised = [
            a
            for a, m in self.assessment_models.items()
            if m.partner == partner and m.status == "finalised"
        ]
        relied_on = finalised[:1] if cite else []
        with acting_as(_actor(proposer, RECORDER)):
            found = self.registry.propose_decision(partner, "engagement", relied_on).id
        ratings = [r for a in relied_on if (r := self.assessment_models[a].rating) is not None]
        self.decision_models[found] = DecisionModel(partner, proposer, ratings)
        return found

    @rule(
        decision=decisions,
        decider=st.sampled_from(PEOPLE),
        role=st.sampled_from(ROLES),
        with_conditions=st.booleans(),
    )
    def approve(self, decision: UUID, decider: str, role: str, with_conditions: bool) -> None:
        model = self.decision_models[decision]
        rating = max(
            model.ratings, key=["low", "medium", "significant", "high"].index, default=None
        )
        allowed = (
            model.outcome is None
            and bool(model.ratings)
            and (rating != "high" or (with_conditions and role == HUMAN_RIGHTS_OFFICER))
            and (rating not in ("significant", "high") or decider != model.proposer)
        )
        outcome = "approved with conditions" if with_conditions else "approved"
        conditions = ["monthly check-in"] if with_conditions else []
        with acting_as(_actor(decider, role)):
            recorded = self._expect(
                allowed,
                lambda: self.registry.decide(
                    decision,
                    outcome,
                    "mitigations in place",
                    conditions=conditions,
                    review_due=self.today + timedelta(days=90),
                ),
            )
        if recorded is not None:
            model.outcome = outcome

    # ---- invariants -------------------------------------------------------------------

    @invariant()
    def nothing_recorded_changes(self) -> None:
        ids = [*self.statuses, *self.assessment_models, *self.decision_models]
        for aggregate_id in ids:
            for stored in self.registry.recorder.select_events(aggregate_id):
                key = (stored.originator_id, stored.originator_version)
                assert self.stored.setdefault(key, stored.state) == stored.state  # type: ignore[arg-type]

    @invariant()
    def statuses_match_the_model(self) -> None:
        for partner, status in self.statuses.items():
            assert self.registry.get_partner(partner).status == status


RegistryRules.TestCase.settings = settings(
    max_examples=12,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestRegistryRules = RegistryRules.TestCase
