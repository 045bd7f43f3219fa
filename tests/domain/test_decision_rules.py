"""Due-diligence decisions: what an approval must rely on, who may decide, reviews and overdue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from uuid import UUID

import pytest

from domain.actors import acting_as
from domain.application import PartnershipRegistry
from domain.errors import RuleViolation, ValidationError
from tests.domain.conftest import (
    HRO,
    RECORDER_ACTOR,
    SECOND_HRO,
    SECOND_RECORDER,
    World,
    assert_rejected,
    finalised_assessment,
    register,
)

TODAY = date.today()
NEXT_YEAR = TODAY + timedelta(days=365)


def propose(registry: PartnershipRegistry, partner: UUID, *assessments: UUID) -> UUID:
    with acting_as(RECORDER_ACTOR):
        return registry.propose_decision(partner, "engagement", list(assessments)).id


def test_an_approval_relying_on_a_finalised_recent_assessment_is_recorded(
    registry: PartnershipRegistry, world: World
) -> None:
    decision = propose(registry, world.partner, world.finalised)
    with acting_as(HRO):
        recorded = registry.decide(decision, "approved", "low risk", review_due=NEXT_YEAR)
    found = registry.get_decision(decision)
    assert (found.outcome, found.decider_id, found.proposer_id) == (
        "approved",
        "hro-1",
        "recorder-1",
    )
    assert found.review_due == NEXT_YEAR
    assert recorded.version == 2
    assert recorded.position == registry.max_position()


def test_an_approval_needs_at_least_one_assessment(
    registry: PartnershipRegistry, world: World
) -> None:
    decision = propose(registry, world.partner)
    with acting_as(HRO):
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.decide(decision, "approved", "trust us", review_due=NEXT_YEAR),
            rule="approval_needs_assessment",
            field="relied_on",
        )
        # Declining needs no assessment.
        registry.decide(decision, "declined", "no basis")


def test_an_approval_refuses_assessments_older_than_the_review_period(
    make_registry: Callable[..., PartnershipRegistry],
) -> None:
    registry = make_registry(REGISTRY_REVIEW_PERIOD_DAYS="30")
    assert registry.review_period_days == 30
    partner = register(registry)
    old = finalised_assessment(registry, partner, on=(TODAY - timedelta(days=31)).isoformat())
    decision = propose(registry, partner, old)
    with acting_as(HRO):
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.decide(decision, "approved", "ok", review_due=NEXT_YEAR),
            rule="assessment_too_old",
        )
        # The same decision, dated when the assessment was fresh, may approve.
        registry.decide(
            decision, "approved", "ok", review_due=NEXT_YEAR, on=TODAY - timedelta(days=20)
        )


def test_the_review_period_defaults_to_180_days(registry: PartnershipRegistry) -> None:
    assert registry.review_period_days == 180


def test_relying_on_a_high_rating_needs_conditions(registry: PartnershipRegistry) -> None:
    partner = register(registry)
    high = finalised_assessment(registry, partner, likelihood=4, impact=5)
    decision = propose(registry, partner, high)
    with acting_as(HRO):
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.decide(decision, "approved", "fine", review_due=NEXT_YEAR),
            rule="high_rating_needs_conditions",
            field="conditions",
        )
        registry.decide(
            decision,
            "approved with conditions",
            "benefits outweigh risks",
            conditions=["Neutral venues"],
            review_due=NEXT_YEAR,
        )
    assert registry.get_decision(decision).conditions == ["Neutral venues"]


def test_relying_on_a_high_rating_needs_a_human_rights_officer(
    registry: PartnershipRegistry,
) -> None:
    partner = register(registry)
    high = finalised_assessment(registry, partner, likelihood=5, impact=5)
    decision = propose(registry, partner, high)
    with acting_as(SECOND_RECORDER):
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.decide(
                decision, "approved with conditions", "ok", conditions=["x"], review_due=NEXT_YEAR
            ),
            rule="high_rating_needs_hro",
        )


@pytest.mark.parametrize(("likelihood", "impact"), [(3, 4), (4, 5)], ids=["significant", "high"])
def test_with_significant_or_high_ratings_the_proposer_cannot_decide(
    registry: PartnershipRegistry, likelihood: int, impact: int
) -> None:
    partner = register(registry)
    assessment = finalised_assessment(registry, partner, likelihood, impact)
    with acting_as(HRO):
        decision = registry.propose_decision(partner, "funding", [assessment]).id
        for outcome in ("approved with conditions", "declined"):
            assert_rejected(
                registry,
                RuleViolation,
                lambda outcome=outcome: registry.decide(  # type: ignore[misc]
                    decision, outcome, "self-approval", conditions=["c"], review_due=NEXT_YEAR
                ),
                rule="two_person_rule",
                field="decider",
            )
    with acting_as(SECOND_HRO):
        registry.decide(
            decision,
            "approved with conditions",
            "second pair of eyes",
            conditions=["c"],
            review_due=NEXT_YEAR,
        )


def test_with_a_medium_rating_the_proposer_may_decide(registry: PartnershipRegistry) -> None:
    partner = register(registry)
    medium = finalised_assessment(registry, partner, likelihood=3, impact=3)
    with acting_as(HRO):
        decision = registry.propose_decision(partner, "engagement", [medium]).id
        registry.decide(decision, "approved", "ok", review_due=NEXT_YEAR)


def test_an_approval_carries_a_review_due_date_after_the_decision(
    registry: PartnershipRegistry, world: World
) -> None:
    decision = propose(registry, world.partner, world.finalised)
    with acting_as(HRO):
        assert_rejected(
            registry,
            ValidationError,
            lambda: registry.decide(decision, "approved", "ok"),
            field="review_due",
            rule="required",
        )
        assert_rejected(
            registry,
            ValidationError,
            lambda: registry.decide(decision, "approved", "ok", review_due=TODAY),
            field="review_due",
            rule="after_decision",
        )
        assert_rejected(
            registry,
            ValidationError,
            lambda: registry.decide(
                decision, "approved with conditions", "ok", review_due=NEXT_YEAR
            ),
            field="conditions",
            rule="required",
        )


def test_an_approval_whose_review_date_has_passed_is_overdue(
    registry: PartnershipRegistry, world: World
) -> None:
    decision = propose(registry, world.partner, world.finalised)
    with acting_as(HRO):
        registry.decide(decision, "approved", "ok", review_due=TODAY + timedelta(days=10))
    found = registry.get_decision(decision)
    assert not found.is_review_overdue(TODAY)
    assert not found.is_review_overdue(TODAY + timedelta(days=10))
    assert found.is_review_overdue(TODAY + timedelta(days=11))


def test_a_declined_decision_is_never_overdue(registry: PartnershipRegistry, world: World) -> None:
    decision = propose(registry, world.partner, world.finalised)
    with acting_as(HRO):
        registry.decide(decision, "declined", "not now")
    assert not registry.get_decision(decision).is_review_overdue(NEXT_YEAR)


def test_an_assessment_superseded_after_the_proposal_cannot_support_an_approval(
    registry: PartnershipRegistry, world: World
) -> None:
    decision = propose(registry, world.partner, world.finalised)
    newer = finalised_assessment(registry, world.partner)
    with acting_as(HRO):
        registry.supersede_risk_assessment(world.finalised, newer)
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.decide(decision, "approved", "ok", review_due=NEXT_YEAR),
            rule="assessment_no_longer_current",
        )


def test_outcomes_follow_each_other_in_order(registry: PartnershipRegistry, world: World) -> None:
    decision = propose(registry, world.partner, world.finalised)
    with acting_as(HRO):
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.decide(decision, "suspended", "nothing to suspend yet"),
            rule="decision_transition",
        )
        registry.decide(decision, "deferred", "need more information")
        registry.decide(decision, "approved", "information received", review_due=NEXT_YEAR)
        registry.decide(decision, "suspended", "reprisals reported")
        registry.decide(decision, "revoked", "reprisals confirmed")
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.decide(decision, "approved", "again?", review_due=NEXT_YEAR),
            rule="decision_transition",
        )
    assert registry.get_decision(decision).outcome == "revoked"


def test_dissent_and_communication_are_recorded(
    registry: PartnershipRegistry, world: World
) -> None:
    decision = propose(registry, world.partner, world.finalised)
    with acting_as(HRO):
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.record_communication(decision, "letter"),
            rule="communicate_decided",
        )
        registry.decide(decision, "approved", "ok", review_due=NEXT_YEAR)
        registry.record_communication(decision, "letter", note="Sent to the coordinator", on=TODAY)
        assert_rejected(
            registry,
            ValidationError,
            lambda: registry.record_communication(decision, "pigeon"),
            field="channel",
            rule="vocabulary",
        )
    with acting_as(SECOND_HRO):
        registry.record_dissent(decision, "The risk to members is understated.")
        assert_rejected(
            registry,
            ValidationError,
            lambda: registry.record_dissent(decision, ""),
            field="dissent",
            rule="required",
        )
    found = registry.get_decision(decision)
    assert found.dissents == ["The risk to members is understated."]
    assert [c.channel for c in found.communications] == ["letter"]


def test_a_review_records_its_outcome_reviewer_new_assessments_and_next_due_date(
    registry: PartnershipRegistry, world: World
) -> None:
    decision = propose(registry, world.partner, world.finalised)
    with acting_as(HRO):
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.review_decision(decision, "continue", "ok", next_review_due=NEXT_YEAR),
            rule="review_standing_decision",
        )
        registry.decide(decision, "approved", "ok", review_due=TODAY + timedelta(days=30))
    newer = finalised_assessment(registry, world.partner)
    later = NEXT_YEAR + timedelta(days=30)
    with acting_as(SECOND_HRO):
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.review_decision(
                decision,
                "continue",
                "ok",
                relied_on=[world.other_partners_assessment],
                next_review_due=later,
            ),
            rule="assessment_of_other_partner",
        )
        registry.review_decision(
            decision, "continue", "risk unchanged", relied_on=[newer], next_review_due=later
        )
    found = registry.get_decision(decision)
    assert found.review_due == later
    with acting_as(HRO):
        registry.review_decision(decision, "continue", "still fine")
    # Without a date, a continued decision is reviewed again one review period later.
    assert registry.get_decision(decision).review_due == TODAY + timedelta(days=180)
    review = found.reviews[0]
    assert (review.outcome, review.reviewer_id) == ("continue", "hro-2")
    assert [r.assessment_id for r in review.relied_on] == [newer]


def test_a_decision_keeps_each_cited_assessment_at_its_version_and_rating(
    registry: PartnershipRegistry, world: World
) -> None:
    finalised = registry.get_risk_assessment(world.finalised)
    with acting_as(RECORDER_ACTOR):
        decision = registry.propose_decision(
            world.partner, "engagement", [(world.finalised, finalised.version)]
        ).id
    with acting_as(HRO):
        newer = finalised_assessment(registry, world.partner, 5, 5)
        registry.supersede_risk_assessment(world.finalised, newer)
    (cited,) = registry.get_decision(decision).relied_on
    assert (cited.assessment_id, cited.version, cited.rating, cited.score) == (
        world.finalised,
        finalised.version,
        "low",
        4,
    )
    assert registry.get_risk_assessment(world.finalised).status == "superseded"
    as_cited = registry.get_risk_assessment(cited.assessment_id, version=cited.version)
    assert (as_cited.status, as_cited.rating) == ("finalised", "low")


def test_citing_a_version_at_which_the_assessment_was_not_finalised_is_refused(
    registry: PartnershipRegistry, world: World
) -> None:
    with acting_as(RECORDER_ACTOR):
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.propose_decision(world.partner, "engagement", [(world.finalised, 1)]),
            rule="assessment_not_finalised",
        )


def test_a_decision_recorded_late_cites_an_assessment_as_it_stood_on_the_decision_date(
    registry: PartnershipRegistry, world: World
) -> None:
    """History is often entered late: a 2021 decision relied on an assessment superseded in 2022."""
    old = finalised_assessment(registry, world.partner, 4, 5, on="2021-08-01")
    newer = finalised_assessment(registry, world.partner, 2, 5, on="2022-02-01")
    with acting_as(HRO):
        registry.supersede_risk_assessment(old, newer, on="2022-02-01")
    with acting_as(RECORDER_ACTOR):
        decision = registry.propose_decision(
            world.partner, "capacity building", [old], on="2021-08-05"
        ).id
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.propose_decision(world.partner, "engagement", [old], on="2022-03-01"),
            rule="assessment_not_finalised",
        )
    with acting_as(HRO):
        registry.decide(
            decision,
            "approved with conditions",
            "mitigated by secure channels",
            conditions=["No publication of participant names"],
            review_due="2022-02-10",
            on="2021-08-10",
        )
    (cited,) = registry.get_decision(decision).relied_on
    assert (cited.version, cited.rating) == (4, "high")
    assert registry.get_decision(decision).is_review_overdue(date(2022, 2, 11))


def test_records_can_be_given_their_id_once(registry: PartnershipRegistry) -> None:
    from uuid import uuid4

    from domain.errors import Conflict

    chosen = uuid4()
    with acting_as(RECORDER_ACTOR):
        recorded = registry.register_partner("Network", "network", "local", record_id=chosen)
        assert recorded.id == chosen
        assert_rejected(
            registry,
            Conflict,
            lambda: registry.register_partner("Network", "network", "local", record_id=chosen),
        )
