"""Erasure of a person's data: an admin records it with a reason, then their key is destroyed."""

from __future__ import annotations

from collections.abc import Callable
from uuid import uuid4

import pytest

from domain.actors import ADMIN, Actor, acting_as
from domain.application import PartnershipRegistry
from domain.erasure import PersonalDataErasure, erasure_id
from domain.errors import Forbidden, RegistryError, RuleViolation, ValidationError
from tests.domain.conftest import (
    RECORDER_ACTOR,
    FakePersonKeys,
    World,
    assert_rejected,
)

ADMIN_ACTOR = Actor("admin-1", ADMIN)


def test_an_admin_erases_a_person_recording_why_and_destroying_their_key(
    registry: PartnershipRegistry, world: World, person_keys: FakePersonKeys
) -> None:
    with acting_as(RECORDER_ACTOR):
        person = registry.add_contact_person(world.partner, "Amina Example").item_id
    assert person is not None
    with acting_as(ADMIN_ACTOR):
        recorded = registry.erase_personal_data(person, "request of the person, 2024-05-01")
    assert recorded.id == erasure_id(person)
    assert person_keys.destroyed == [person]
    assert registry.is_erased(person)
    (event,) = registry.events.get(erasure_id(person))
    assert isinstance(event, PersonalDataErasure.PersonalDataErased)
    assert (event.person_id, event.reason, event.actor_role) == (
        person,
        "request of the person, 2024-05-01",
        "admin",
    )
    with acting_as(ADMIN_ACTOR):
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.erase_personal_data(person, "again"),
            rule="already_erased",
        )


def test_only_an_admin_erases_and_a_reason_is_required(
    registry: PartnershipRegistry, person_keys: FakePersonKeys
) -> None:
    person = uuid4()
    with acting_as(RECORDER_ACTOR):
        assert_rejected(registry, Forbidden, lambda: registry.erase_personal_data(person, "asked"))
    with acting_as(ADMIN_ACTOR):
        assert_rejected(
            registry,
            ValidationError,
            lambda: registry.erase_personal_data(person, " "),
            field="reason",
            rule="required",
        )
    assert person_keys.destroyed == []
    assert not registry.is_erased(person)


def test_erasure_without_a_person_key_store_is_a_clear_error(
    make_registry: Callable[..., PartnershipRegistry],
) -> None:
    registry = make_registry()
    with acting_as(ADMIN_ACTOR), pytest.raises(RegistryError, match="person key store"):
        registry.erase_personal_data(uuid4(), "asked")


def test_the_erasure_record_id_is_derived_from_the_person_id() -> None:
    person = uuid4()
    assert erasure_id(person) == erasure_id(person)
    assert erasure_id(person) != erasure_id(uuid4())
