"""Risk assessments: draft, submitted, finalised by an HRO, superseded or withdrawn; the rating."""

from __future__ import annotations

from uuid import uuid4

from domain.actors import acting_as
from domain.application import PartnershipRegistry
from domain.errors import Forbidden, RuleViolation
from tests.domain.conftest import (
    HRO,
    RECORDER_ACTOR,
    World,
    assert_rejected,
    events_of,
    finalised_assessment,
)


def test_the_overall_rating_is_that_of_the_highest_risk(
    registry: PartnershipRegistry, world: World
) -> None:
    with acting_as(RECORDER_ACTOR):
        registry.add_risk(world.draft, "perceived partiality", 2, 3, "one community")
        registry.add_risk(
            world.draft,
            "reprisal or intimidation risk to the partner",
            3,
            5,
            "militia",
            confidential_sources="Confidential community source",
        )
        registry.submit_risk_assessment(world.draft)
    with acting_as(HRO):
        registry.finalise_risk_assessment(world.draft)
    found = registry.get_risk_assessment(world.draft)
    assert (found.score, found.rating, found.status) == (15, "significant", "finalised")
    finalised_event = events_of(registry, world.draft)[-1]
    assert (finalised_event.score, finalised_event.rating) == (15, "significant")
    assert finalised_event.partner_id == world.partner


def test_only_a_human_rights_officer_finalises(registry: PartnershipRegistry, world: World) -> None:
    with acting_as(RECORDER_ACTOR):
        registry.add_risk(world.draft, "perceived partiality", 2, 3, "one community")
        registry.submit_risk_assessment(world.draft)
        assert_rejected(registry, Forbidden, lambda: registry.finalise_risk_assessment(world.draft))


def test_risks_and_mitigations_are_added_only_to_drafts(
    registry: PartnershipRegistry, world: World
) -> None:
    with acting_as(RECORDER_ACTOR):
        registry.add_risk(world.draft, "perceived partiality", 2, 3, "one community")
        registry.add_mitigation(world.draft, "Neutral venues", "Civil Affairs", due="2030-01-01")
        registry.submit_risk_assessment(world.draft)
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.add_mitigation(world.draft, "Late", "Civil Affairs"),
            rule="mitigations_only_in_draft",
        )
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.submit_risk_assessment(world.draft),
            rule="submit_from_draft",
        )


def test_mitigation_status_is_followed_after_finalisation(
    registry: PartnershipRegistry, world: World
) -> None:
    with acting_as(RECORDER_ACTOR):
        registry.add_risk(world.draft, "perceived partiality", 2, 3, "one community")
        mitigation = registry.add_mitigation(world.draft, "Neutral venues", "Civil Affairs").item_id
        assert mitigation is not None
        registry.submit_risk_assessment(world.draft)
    with acting_as(HRO):
        registry.finalise_risk_assessment(world.draft)
        registry.update_mitigation_status(world.draft, mitigation, "done")
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.finalise_risk_assessment(world.draft),
            rule="finalise_from_submitted",
        )
    assert registry.get_risk_assessment(world.draft).mitigations[str(mitigation)].status == "done"


def test_a_finalised_assessment_is_superseded_only_by_another_finalised_one_of_the_partner(
    registry: PartnershipRegistry, world: World
) -> None:
    with acting_as(HRO):
        for by, rule in [
            (world.draft, "superseding_finalised"),
            (world.other_partners_assessment, "same_partner"),
            (world.finalised, "supersede_by_other"),
        ]:
            assert_rejected(
                registry,
                RuleViolation,
                lambda by=by: registry.supersede_risk_assessment(world.finalised, by),  # type: ignore[misc]
                rule=rule,
                field="superseded_by",
            )
        newer = finalised_assessment(registry, world.partner)
        registry.supersede_risk_assessment(world.finalised, newer)
    found = registry.get_risk_assessment(world.finalised)
    assert (found.status, found.superseded_by) == ("superseded", newer)


def test_a_withdrawal_keeps_its_reason(registry: PartnershipRegistry, world: World) -> None:
    with acting_as(HRO):
        registry.withdraw_risk_assessment(world.finalised, "sources proved unreliable")
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.withdraw_risk_assessment(world.finalised, "again"),
            rule="withdraw_current",
        )
    found = registry.get_risk_assessment(world.finalised)
    assert (found.status, found.withdrawal_reason) == ("withdrawn", "sources proved unreliable")


def test_an_assessment_for_an_engagement_must_concern_one_of_its_partners(
    registry: PartnershipRegistry, world: World
) -> None:
    with acting_as(RECORDER_ACTOR):
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.open_risk_assessment(
                world.other_partner, engagement_id=world.engagement
            ),
            rule="engagement_of_partner",
        )
        opened = registry.open_risk_assessment(world.partner, engagement_id=world.engagement)
        from domain.errors import NotFound

        assert_rejected(
            registry,
            NotFound,
            lambda: registry.open_risk_assessment(world.partner, engagement_id=uuid4()),
        )
    assert registry.get_risk_assessment(opened.id).engagement_id == world.engagement
