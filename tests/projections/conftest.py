"""Fixtures: the registry application on the test backend, an acting officer, the view store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.actors import HUMAN_RIGHTS_OFFICER, Actor, acting_as
from domain.application import PartnershipRegistry
from projections.projection import RegistryProjection
from projections.store import ViewStore
from tests.backends import Backend


@pytest.fixture
def registry(backend: Backend) -> Iterator[PartnershipRegistry]:
    app = PartnershipRegistry(backend.env())
    try:
        yield app
    finally:
        app.close()


@pytest.fixture(autouse=True)
def officer() -> Iterator[Actor]:
    with acting_as(Actor("hro-1", HUMAN_RIGHTS_OFFICER)) as actor:
        yield actor


@pytest.fixture
def store(registry: PartnershipRegistry) -> ViewStore:
    found = ViewStore.for_application(registry)
    found.create_table()
    return found


@pytest.fixture
def projection(store: ViewStore) -> RegistryProjection:
    return RegistryProjection(store)
