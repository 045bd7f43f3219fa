"""Fixtures for domain tests: actors, and a PartnershipRegistry on each real backend."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest

from domain.actors import HUMAN_RIGHTS_OFFICER, RECORDER, Actor, acting_as
from domain.application import PartnershipRegistry
from tests.backends import Backend

RECORDER_ACTOR = Actor("recorder-1", RECORDER)
SECOND_RECORDER = Actor("recorder-2", RECORDER)
HRO = Actor("hro-1", HUMAN_RIGHTS_OFFICER)
SECOND_HRO = Actor("hro-2", HUMAN_RIGHTS_OFFICER)
ADMIN_ACTOR = Actor("admin-1", "admin")


def registry_env(backend: Backend, **overrides: str) -> dict[str, str]:
    """The backend's library env; without the envelope mapper until ``security`` provides it."""
    env = backend.env()
    if importlib.util.find_spec("security.envelope") is None:
        env.pop("MAPPER_TOPIC", None)
        env.pop("CIPHER_TOPIC", None)
    env.update(overrides)
    return env


def release_key_store(backend: Backend) -> None:
    """Close the process-wide key store the envelope mapper opened for this backend.

    Work-around: ``security.keys`` keeps one store per location alive for the whole process
    (its finalizer holds the store), so each fresh PostgreSQL schema would keep a connection
    open until the server refuses more clients. Remove once the key store is released with
    its applications.
    """
    if importlib.util.find_spec("security.keys") is None:
        return
    keys = importlib.import_module("security.keys")
    keys.open_key_store(registry_env(backend)).close()


class FakePersonKeys:
    """Remembers which person keys were destroyed (the real store lives in ``security``)."""

    def __init__(self) -> None:
        self.destroyed: list[UUID] = []

    def destroy(self, person_id: UUID) -> None:
        self.destroyed.append(person_id)


@pytest.fixture
def person_keys() -> FakePersonKeys:
    return FakePersonKeys()


@pytest.fixture
def registry(backend: Backend, person_keys: FakePersonKeys) -> Iterator[PartnershipRegistry]:
    app = PartnershipRegistry(env=registry_env(backend), person_keys=person_keys)
    try:
        yield app
    finally:
        app.close()
        release_key_store(backend)


@pytest.fixture
def as_recorder() -> Iterator[Actor]:
    with acting_as(RECORDER_ACTOR) as actor:
        yield actor


def assert_rejected(
    registry: PartnershipRegistry,
    error_type: type[Exception],
    command: Callable[[], object],
    *,
    field: str | None = None,
    rule: str | None = None,
) -> Exception:
    """Run ``command``, expect ``error_type`` naming ``field`` and ``rule``, and no new event."""
    before = registry.max_position()
    with pytest.raises(error_type) as caught:
        command()
    if field is not None:
        assert getattr(caught.value, "field", None) == field, caught.value
    if rule is not None:
        assert getattr(caught.value, "rule", None) == rule, caught.value
    assert registry.max_position() == before, "a rejected command wrote an event"
    return caught.value


@dataclass(frozen=True)
class World:
    """A small registry: two partners, assessments in several states, an engagement."""

    partner: UUID
    other_partner: UUID
    finalised: UUID
    draft: UUID
    other_partners_assessment: UUID
    engagement: UUID


def finalised_assessment(
    registry: PartnershipRegistry,
    partner_id: UUID,
    likelihood: int = 2,
    impact: int = 2,
    on: str | None = None,
) -> UUID:
    """A finalised assessment of ``partner_id`` with one risk of the given size."""
    with acting_as(RECORDER_ACTOR):
        assessment = registry.open_risk_assessment(partner_id, on=on).id
        registry.add_risk(assessment, "perceived partiality", likelihood, impact, "seen as partial")
        registry.submit_risk_assessment(assessment, on=on)
    with acting_as(HRO):
        registry.finalise_risk_assessment(assessment, on=on)
    return assessment


def register(registry: PartnershipRegistry, name: str = "Juba Women's Peace Network") -> UUID:
    with acting_as(RECORDER_ACTOR):
        return registry.register_partner(
            name, "women's group", "local", countries=["SS"], focus_areas=["WPS"], on="2019-03"
        ).id


@pytest.fixture
def world(registry: PartnershipRegistry) -> World:
    partner = register(registry)
    other = register(registry, "Bangui Youth for Dialogue")
    finalised = finalised_assessment(registry, partner)
    other_assessment = finalised_assessment(registry, other)
    with acting_as(RECORDER_ACTOR):
        draft = registry.open_risk_assessment(partner).id
        engagement = registry.record_engagement(
            "roundtable", "Protection roundtable", "2021-03-14", partners=[(partner, "convener")]
        ).id
    return World(partner, other, finalised, draft, other_assessment, engagement)


def events_of(registry: PartnershipRegistry, aggregate_id: UUID) -> list[Any]:
    """Every stored event of one record, oldest first (typed loosely: events differ in fields)."""
    return list(registry.events.get(aggregate_id))


@pytest.fixture
def make_registry(backend: Backend) -> Iterator[Callable[..., PartnershipRegistry]]:
    """Build more registries on the same backend (env overrides as keywords); all closed after."""
    made: list[PartnershipRegistry] = []

    def make(**overrides: str) -> PartnershipRegistry:
        app = PartnershipRegistry(env=registry_env(backend, **overrides))
        made.append(app)
        return app

    yield make
    for app in made:
        app.close()
    release_key_store(backend)
