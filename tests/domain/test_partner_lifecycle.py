"""Partners: profile, actor mapping, contact persons, and the lifecycle with reasons."""

from __future__ import annotations

from uuid import uuid4

from domain.actors import acting_as
from domain.application import PartnershipRegistry
from domain.errors import RuleViolation, ValidationError
from domain.partner import Relationship
from tests.domain.conftest import HRO, RECORDER_ACTOR, World, assert_rejected


def test_a_renamed_partner_keeps_its_former_name(
    registry: PartnershipRegistry, world: World
) -> None:
    with acting_as(RECORDER_ACTOR):
        registry.update_profile(
            world.partner,
            "Juba Women Peacebuilders",
            "women's group",
            "national",
            countries=["ss", "UG"],
            focus_areas=["WPS", "peacebuilding"],
        )
    profile = registry.get_partner(world.partner).profile
    assert profile.former_names == ("Juba Women's Peace Network",)
    assert profile.countries == ("SS", "UG")
    assert profile.scope == "national"


def test_actor_mapping_records_interest_influence_stance_and_relationships(
    registry: PartnershipRegistry, world: World
) -> None:
    relation = Relationship("partner organisation", "Bangui Youth", "allies", world.other_partner)
    with acting_as(RECORDER_ACTOR):
        registry.update_actor_mapping(
            world.partner, 4, 2, stance="supportive", relationships=[relation]
        )
        assert_rejected(
            registry,
            ValidationError,
            lambda: registry.update_actor_mapping(
                world.partner, 3, 3, relationships=[Relationship("cousin", "x")]
            ),
            field="relationships[0].kind",
            rule="vocabulary",
        )
    mapping = registry.get_partner(world.partner).mapping
    assert mapping is not None
    assert (mapping.interest, mapping.influence, mapping.stance) == (4, 2, "supportive")
    assert mapping.relationships == (relation,)


def test_contact_persons_are_added_with_their_own_person_id_and_removed(
    registry: PartnershipRegistry, world: World
) -> None:
    with acting_as(RECORDER_ACTOR):
        added = registry.add_contact_person(
            world.partner, "Amina Example", role="Coordinator", email="coordinator@jwpn.example"
        )
        person_id = added.item_id
        assert person_id is not None
        contact = registry.get_partner(world.partner).contacts[str(person_id)]
        assert (contact.name, contact.email) == ("Amina Example", "coordinator@jwpn.example")
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.add_contact_person(world.partner, "Again", person_id=person_id),
            rule="contact_exists",
        )
        registry.remove_contact_person(world.partner, person_id)
    assert registry.get_partner(world.partner).contacts == {}
    assert str(person_id) in registry.get_partner(world.partner, version=2).contacts


def test_the_lifecycle_runs_registered_active_suspended_reinstated_closed(
    registry: PartnershipRegistry, world: World
) -> None:
    with acting_as(HRO):
        registry.activate_partner(world.partner)
        assert registry.get_partner(world.partner).status == "active"
        registry.suspend_partner(world.partner, "credible reprisal threats")
        assert registry.get_partner(world.partner).status_reason == "credible reprisal threats"
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.suspend_partner(world.partner, "again"),
            rule="status",
        )
        assert_rejected(
            registry,
            ValidationError,
            lambda: registry.reinstate_partner(world.partner, ""),
            field="reason",
            rule="required",
        )
        registry.reinstate_partner(world.partner, "threat receded")
        registry.close_partner(world.partner, "organisation dissolved")
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.update_actor_mapping(world.partner, 1, 1),
            rule="partner_closed",
        )
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.open_risk_assessment(world.partner),
            rule="partner_closed",
        )
    statuses = [registry.get_partner(world.partner, version=v).status for v in range(1, 6)]
    assert statuses == ["registered", "active", "suspended", "reinstated", "closed"]


def test_reading_a_partner_at_a_version_that_does_not_exist_is_not_found(
    registry: PartnershipRegistry, world: World
) -> None:
    from domain.errors import NotFound

    assert_rejected(registry, NotFound, lambda: registry.get_partner(world.partner, version=0))
    assert_rejected(registry, NotFound, lambda: registry.get_partner(uuid4()))
