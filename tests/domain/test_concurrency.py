"""Two writers on one record: one wins and the other gets Conflict; commuting commands retry."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

import pytest

from domain.actors import acting_as
from domain.application import PartnershipRegistry
from domain.engagement import Engagement
from domain.errors import Conflict
from domain.partner import PartnerOrganisation
from domain.personal_data import PersonalData
from domain.risk_assessment import RiskAssessment
from tests.backends import Backend
from tests.domain.conftest import (
    HRO,
    RECORDER_ACTOR,
    FakePersonKeys,
    events_of,
    register,
    registry_env,
    release_key_store,
)


class LockstepRegistry(PartnershipRegistry):
    """A registry whose first load per thread waits for the other writer's, so both race."""

    name = "PartnershipRegistry"  # the same tables as the registry it races against

    def __init__(self, env: dict[str, str], writers: int) -> None:
        super().__init__(env=env, person_keys=FakePersonKeys())
        self.barrier = threading.Barrier(writers, timeout=30)
        self.loaded = threading.local()

    def _in_step(self, found: Any) -> Any:
        if not getattr(self.loaded, "once", False):
            self.loaded.once = True
            self.barrier.wait()
        return found

    def get_partner(self, partner_id: UUID, version: int | None = None) -> PartnerOrganisation:
        found = super().get_partner(partner_id, version)
        return self._in_step(found) if version is None else found

    def get_engagement(self, engagement_id: UUID, version: int | None = None) -> Engagement:
        found = super().get_engagement(engagement_id, version)
        return self._in_step(found) if version is None else found

    def get_risk_assessment(
        self, assessment_id: UUID, version: int | None = None
    ) -> RiskAssessment:
        found = super().get_risk_assessment(assessment_id, version)
        return self._in_step(found) if version is None else found


def race(commands: list[Callable[[], object]]) -> list[object]:
    """Run each command in its own thread (each acting as an HRO); results or raised errors."""

    def run(command: Callable[[], object]) -> object:
        with acting_as(HRO):
            try:
                return command()
            except Exception as error:  # the outcome is what the test checks
                return error

    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return list(pool.map(run, commands))


@pytest.fixture
def lockstep(backend: Backend) -> Any:
    setup = PartnershipRegistry(env=registry_env(backend))
    racing = LockstepRegistry(registry_env(backend), writers=2)
    try:
        yield setup, racing
    finally:
        racing.close()
        setup.close()
        release_key_store(backend)


def test_two_writers_on_one_partner_one_wins_and_the_other_gets_conflict(lockstep: Any) -> None:
    setup, racing = lockstep
    partner = register(setup)
    outcomes = race(
        [
            lambda: racing.suspend_partner(partner, "reprisal threats"),
            lambda: racing.update_actor_mapping(partner, 4, 4),
        ]
    )
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(conflicts) == 1, outcomes
    assert setup.get_partner(partner).version == 2
    assert len(events_of(setup, partner)) == 2


def test_follow_ups_added_at_once_are_both_kept_by_retrying(lockstep: Any) -> None:
    setup, racing = lockstep
    with acting_as(RECORDER_ACTOR):
        engagement = setup.record_engagement("consultation", "Market routes", "2021-05-02").id
    outcomes = race(
        [
            lambda: racing.add_follow_up(engagement, "Call the focal point", "Civil Affairs"),
            lambda: racing.add_follow_up(engagement, "Share patrol plan", "Force"),
        ]
    )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    found = setup.get_engagement(engagement)
    assert sorted(f.action for f in found.follow_ups.values()) == [
        "Call the focal point",
        "Share patrol plan",
    ]
    assert found.version == 3


def test_risks_and_mitigations_added_at_once_to_a_draft_are_all_kept(lockstep: Any) -> None:
    setup, racing = lockstep
    partner = register(setup)
    with acting_as(RECORDER_ACTOR):
        draft = setup.open_risk_assessment(partner).id
    outcomes = race(
        [
            lambda: racing.add_risk(draft, "perceived partiality", 2, 2, "one community"),
            lambda: racing.add_mitigation(draft, "Neutral venues", "Civil Affairs"),
        ]
    )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    found = setup.get_risk_assessment(draft)
    assert (len(found.risks), len(found.mitigations), found.version) == (1, 1, 3)


def test_contact_persons_added_at_once_are_both_kept(lockstep: Any) -> None:
    setup, racing = lockstep
    partner = register(setup)
    outcomes = race(
        [
            lambda: racing.add_contact_person(partner, "Amina Example"),
            lambda: racing.add_contact_person(partner, "Grace Sample"),
        ]
    )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    names = sorted(c.name for c in setup.get_partner(partner).contacts.values())
    assert names == ["Amina Example", "Grace Sample"]


def test_many_threads_adding_risks_lose_no_event(
    registry: PartnershipRegistry, make_registry: Callable[..., PartnershipRegistry]
) -> None:
    partner = register(registry)
    with acting_as(RECORDER_ACTOR):
        draft = registry.open_risk_assessment(partner).id
    writers = [make_registry() for _ in range(4)]

    def adding(writer: PartnershipRegistry, i: int) -> Callable[[], object]:
        return lambda: writer.add_risk(draft, "fraud or diversion", 1 + i % 5, 2, f"risk {i}")

    commands = [adding(w, i) for i, w in enumerate(writers * 2)]
    outcomes = race(commands)
    errors = [o for o in outcomes if isinstance(o, Exception)]
    # Retries are bounded; under heavy contention a writer may still give up with Conflict.
    assert all(isinstance(e, Conflict) for e in errors), errors
    found = registry.get_risk_assessment(draft)
    assert len(found.risks) == len(commands) - len(errors)
    assert found.version == 1 + len(found.risks)
    assert len(events_of(registry, draft)) == found.version


def test_personal_data_values_stay_whole_inside_events(registry: PartnershipRegistry) -> None:
    partner = register(registry)
    with acting_as(RECORDER_ACTOR):
        registry.add_contact_person(partner, "Amina Example", email="a@example.org")
    event = events_of(registry, partner)[-1]
    assert isinstance(event.contact, PersonalData)
