"""Any record can be read at any past version, with and without snapshots, on both backends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import RecordConflictError

from domain.actors import acting_as
from domain.application import PartnershipRegistry
from domain.decision import DueDiligenceDecision
from domain.engagement import FollowUp, Participants
from domain.partner import PartnerOrganisation, Relationship
from tests.backends import Backend
from tests.domain.conftest import HRO, RECORDER_ACTOR, finalised_assessment, register

CHANGES = 11


def state(aggregate: Any) -> dict[str, Any]:
    """An aggregate's state, without the library's bookkeeping that a snapshot does not keep."""
    return {k: v for k, v in vars(aggregate).items() if k not in ("_pending_events",)}


def build_history(registry: PartnershipRegistry) -> dict[str, Any]:
    """A partner, an engagement, an assessment and a decision with many versions each."""
    partner = register(registry)
    with acting_as(RECORDER_ACTOR):
        for i in range(CHANGES):
            registry.update_actor_mapping(
                partner,
                1 + i % 5,
                5 - i % 5,
                stance="supportive",
                relationships=[Relationship("host state", "Ministry", f"talks {i}")],
            )
        registry.add_contact_person(partner, "Amina Example", email="a@example.org")
        engagement = registry.record_engagement(
            "roundtable",
            "Roundtable",
            "2020",
            partners=[(partner, "convener")],
            participants=Participants(10, 5, 2),
        ).id
        for i in range(CHANGES):
            registry.add_follow_up(
                engagement, f"Action {i}", "Civil Affairs", due=date(2030, 1, 1 + i)
            )
        registry.correct_engagement(engagement, "year was wrong", start="2019-11")
        draft = registry.open_risk_assessment(partner).id
        for i in range(CHANGES):
            registry.add_risk(draft, "fraud or diversion", 1 + i % 5, 1 + i % 3, f"risk {i}")
            registry.add_mitigation(draft, f"measure {i}", "Civil Affairs", due="2030-01-01")
        registry.submit_risk_assessment(draft)
    with acting_as(HRO):
        registry.finalise_risk_assessment(draft)
    assessment = finalised_assessment(registry, partner, 2, 2)
    with acting_as(RECORDER_ACTOR):
        decision = registry.propose_decision(partner, "engagement", [assessment, draft]).id
    with acting_as(HRO):
        registry.decide(
            decision,
            "approved with conditions",
            "ok",
            conditions=["c"],
            review_due=date.today() + timedelta(days=90),
        )
        for i in range(CHANGES):
            registry.record_communication(decision, "email", note=f"reminder {i}")
    return {"partner": partner, "engagement": engagement, "assessment": draft, "decision": decision}


def every_version(registry: PartnershipRegistry, aggregate_id: Any) -> list[dict[str, Any]]:
    last: int = registry.repository.get(aggregate_id).version
    return [state(registry.repository.get(aggregate_id, version=v)) for v in range(1, last + 1)]


def test_every_past_version_reads_the_same_with_and_without_snapshots(
    make_registry: Callable[..., PartnershipRegistry],
) -> None:
    snapshotting = make_registry(REGISTRY_SNAPSHOT_INTERVAL="4")
    ids = build_history(snapshotting)
    plain = make_registry(IS_SNAPSHOTTING_ENABLED="n", REGISTRY_SNAPSHOT_INTERVAL="0")
    assert plain.snapshots is None
    assert snapshotting.snapshots is not None
    for name, aggregate_id in ids.items():
        snapshots = list(snapshotting.snapshots.get(aggregate_id))
        assert snapshots, f"no snapshot of the {name}"
        assert all(s.originator_version % 4 == 0 for s in snapshots)
        assert every_version(snapshotting, aggregate_id) == every_version(plain, aggregate_id), name


def test_snapshots_are_taken_at_the_configured_interval(
    make_registry: Callable[..., PartnershipRegistry],
) -> None:
    registry = make_registry(REGISTRY_SNAPSHOT_INTERVAL="3")
    partner = register(registry)
    with acting_as(RECORDER_ACTOR):
        for i in range(7):
            registry.update_actor_mapping(partner, 1 + i % 5, 3)
    assert registry.snapshots is not None
    versions = [s.originator_version for s in registry.snapshots.get(partner)]
    assert versions == [3, 6]


def test_the_default_snapshot_interval_is_50(registry: PartnershipRegistry) -> None:
    assert set(registry.snapshotting_intervals.values()) == {50}
    assert PartnerOrganisation in registry.snapshotting_intervals


def test_a_partner_snapshot_round_trips_through_the_stored_form(
    registry: PartnershipRegistry,
) -> None:
    partner_id = register(registry)
    with acting_as(RECORDER_ACTOR):
        registry.update_actor_mapping(
            partner_id, 3, 4, relationships=[Relationship("host state", "Ministry")]
        )
        registry.add_contact_person(partner_id, "Amina Example")
    partner = registry.get_partner(partner_id)
    snapshot = PartnerOrganisation.Snapshot.take(partner)
    stored = registry.mapper.to_stored_event(snapshot)
    restored = PartnerOrganisation.Snapshot.mutate(registry.mapper.to_domain_event(stored), None)  # type: ignore[arg-type]
    assert state(restored) == state(partner)


def test_a_decision_and_the_assessments_it_cites_read_as_they_stood_then(
    registry: PartnershipRegistry,
) -> None:
    ids = build_history(registry)
    decision = registry.get_decision(ids["decision"])
    assert isinstance(decision, DueDiligenceDecision)
    as_proposed = registry.get_decision(ids["decision"], version=1)
    assert (as_proposed.status, as_proposed.outcome) == ("proposed", None)
    for cited in decision.relied_on:
        then = registry.get_risk_assessment(cited.assessment_id, version=cited.version)
        assert (then.status, then.rating, then.score) == ("finalised", cited.rating, cited.score)


def test_an_engagement_reads_as_first_recorded_and_as_corrected(
    registry: PartnershipRegistry,
) -> None:
    ids = build_history(registry)
    first = registry.get_engagement(ids["engagement"], version=1)
    now = registry.get_engagement(ids["engagement"])
    assert str(first.details.start) == "2020"
    assert str(now.details.start) == "2019-11"
    assert first.follow_ups == {}
    assert len(now.follow_ups) == CHANGES


def test_a_save_of_many_events_snapshots_the_saved_record_once(
    make_registry: Callable[..., PartnershipRegistry],
) -> None:
    """The saved aggregate is snapshotted as it is in memory: no reload from the store."""
    registry = make_registry(REGISTRY_SNAPSHOT_INTERVAL="3")
    with acting_as(RECORDER_ACTOR):
        engagement_id = registry.record_engagement("roundtable", "Roundtable", "2020").id
        engagement = registry.get_engagement(engagement_id)
        for i in range(7):  # versions 2..8 in one save: 3 and 6 reach the interval
            engagement.add_follow_up(FollowUp(uuid4(), f"Action {i}", "Civil Affairs"))
        registry.save(engagement)
    assert registry.snapshots is not None
    snapshots = list(registry.snapshots.get(engagement_id))
    assert [s.originator_version for s in snapshots] == [8]
    assert state(registry.get_engagement(engagement_id)) == state(engagement)


def test_a_save_records_its_events_and_the_snapshot_they_make_due_together(
    make_registry: Callable[..., PartnershipRegistry],
) -> None:
    """Both or neither: a snapshot that cannot be written leaves the events unrecorded too."""
    registry = make_registry(REGISTRY_SNAPSHOT_INTERVAL="3")
    recorder: Any = registry.recorder
    assert recorder.records_snapshots
    with acting_as(RECORDER_ACTOR):
        engagement_id = registry.record_engagement("roundtable", "Roundtable", "2020").id
        registry.add_follow_up(engagement_id, "Write the minutes", "Secretariat")  # version 2
        assert registry.snapshots is not None
        engagement = registry.get_engagement(engagement_id)
        engagement.add_follow_up(FollowUp(uuid4(), "Send the minutes", "Secretariat"))  # v3
        # Meanwhile a snapshot of version 3 is stored (as if another process got there first).
        snapshot = type(engagement).Snapshot.take(engagement)
        registry.snapshots.recorder.insert_events(
            [registry.snapshots.mapper.to_stored_event(snapshot)]
        )
        position = registry.max_position()
        with pytest.raises(RecordConflictError):
            registry.save(engagement)
    assert registry.max_position() == position  # the event was not recorded either
    assert [e.originator_version for e in registry.events.get(engagement_id)] == [1, 2]


def test_a_save_reaching_the_interval_commits_once_on_sqlite(
    make_registry: Callable[..., PartnershipRegistry], backend: Backend
) -> None:
    if backend.name != "sqlite":
        pytest.skip(
            "SQLite's datastore transactions are counted; PostgreSQL's insert opens its own"
        )
    registry = make_registry(REGISTRY_SNAPSHOT_INTERVAL="3")
    datastore: Any = registry.recorder.datastore  # type: ignore[attr-defined]
    committed: list[bool] = []
    real = datastore.transaction

    @contextmanager
    def counted(*, commit: bool) -> Iterator[Any]:
        with real(commit=commit) as cursor:
            yield cursor
        committed.append(commit)

    with acting_as(RECORDER_ACTOR):
        engagement_id = registry.record_engagement("roundtable", "Roundtable", "2020").id
        registry.add_follow_up(engagement_id, "Write the minutes", "Secretariat")
        datastore.transaction = counted
        try:
            registry.add_follow_up(engagement_id, "Send the minutes", "Secretariat")  # version 3
        finally:
            del datastore.transaction
    assert committed.count(True) == 1  # events and snapshot: one transaction, one commit
    assert registry.snapshots is not None
    assert [s.originator_version for s in registry.snapshots.get(engagement_id)] == [3]
