"""Fixtures for domain tests: actors, and a PartnershipRegistry on each real backend."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
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


@pytest.fixture
def as_recorder() -> Iterator[Actor]:
    with acting_as(RECORDER_ACTOR) as actor:
        yield actor
