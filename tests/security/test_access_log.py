"""Read accountability: reads are buffered, flushed as AccessLog events, and queryable by partner."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from domain.access_log import AccessLog, Read
from domain.actors import EVALUATOR, HUMAN_RIGHTS_OFFICER, PARTNER, SYSTEM, Actor, acting_as
from domain.application import PartnershipRegistry
from domain.errors import ValidationError
from projections.follower import project_pending
from projections.projection import RegistryProjection
from projections.queries.access_log import access_log
from projections.store import ViewStore
from security.access_log import AccessRecorder
from tests.backends import Backend

HRO = Actor("hro-1", HUMAN_RIGHTS_OFFICER)
EVALUATOR_1 = Actor("eval-1", EVALUATOR)
PARTNER_A = Actor("partner-user", PARTNER, "org-a")


@pytest.fixture
def registry(backend: Backend) -> Iterator[PartnershipRegistry]:
    app = PartnershipRegistry(backend.env())
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def store(registry: PartnershipRegistry) -> ViewStore:
    found = ViewStore.for_application(registry)
    found.create_table()
    return found


def project(registry: PartnershipRegistry, store: ViewStore) -> None:
    project_pending(registry, RegistryProjection(store))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_reads_flushed_are_stored_as_events_and_queryable_by_partner(
    registry: PartnershipRegistry, store: ViewStore
) -> None:
    clock = Clock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    recorder = AccessRecorder(registry, clock=clock)
    recorder.record(HRO, ["org-a", "org-b"], "partners")
    clock.now += timedelta(minutes=5)
    recorder.record(EVALUATOR_1, ["org-a"], "export")
    recorder.record(PARTNER_A, ["org-a", "org-a"], "partner")  # duplicates count once
    assert recorder.pending == 4

    position = recorder.flush()
    assert position is not None
    assert recorder.pending == 0
    project(registry, store)

    entries = access_log(store, "org-a", date(2026, 3, 1), date(2026, 3, 31), scope=None)
    assert [(e.actor_id, e.actor_role, e.operation) for e in entries] == [
        ("hro-1", HUMAN_RIGHTS_OFFICER, "partners"),
        ("eval-1", EVALUATOR, "export"),
        ("partner-user", PARTNER, "partner"),
    ]
    assert entries[0].read_at == "2026-03-02T09:30:00.000000+00:00"
    assert [e.operation for e in access_log(store, "org-b", None, None, scope=None)] == ["partners"]


def test_the_events_say_the_registry_wrote_them_and_name_each_reader(
    registry: PartnershipRegistry,
) -> None:
    recorder = AccessRecorder(registry)
    recorder.record(HRO, ["org-a"], "timeline")
    recorder.flush()
    log_ids = {n.originator_id for n in registry.recorder.select_notifications(start=1, limit=10)}
    (log_id,) = (UUID(str(i)) for i in log_ids)
    log: object = registry.repository.get(log_id)
    assert isinstance(log, AccessLog)
    assert log.read_count == 1
    created, recorded = list(registry.events.get(log_id))
    assert isinstance(created, AccessLog.Opened)
    assert (created.actor_id, created.actor_role) == ("registry-access-log", SYSTEM)
    assert isinstance(recorded, AccessLog.ReadsRecorded)
    assert recorded.reads[0]["actor_id"] == "hro-1"
    assert recorded.reads[0]["partner_id"] == "org-a"


def test_later_flushes_append_to_the_same_days_stream(registry: PartnershipRegistry) -> None:
    recorder = AccessRecorder(registry)
    for _ in range(3):
        recorder.record(HRO, ["org-a"], "partner")
        recorder.flush()
    streams = {n.originator_id for n in registry.recorder.select_notifications(start=1, limit=50)}
    assert len(streams) == 1
    log: object = registry.repository.get(UUID(str(streams.pop())))
    assert isinstance(log, AccessLog)
    assert (log.version, log.read_count) == (4, 3)


def test_reads_either_side_of_midnight_go_to_each_days_log(
    registry: PartnershipRegistry, store: ViewStore
) -> None:
    clock = Clock(datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC))
    recorder = AccessRecorder(registry, clock=clock)
    recorder.record(HRO, ["org-a"], "partner")
    clock.now += timedelta(seconds=2)
    recorder.record(HRO, ["org-a"], "timeline")
    recorder.flush()
    project(registry, store)
    assert [
        e.operation
        for e in access_log(store, "org-a", date(2026, 3, 2), date(2026, 3, 2), scope=None)
    ] == ["partner"]
    assert [
        e.operation for e in access_log(store, "org-a", date(2026, 3, 3), None, scope=None)
    ] == ["timeline"]
    instant = datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC)
    assert len(access_log(store, "org-a", instant, instant, scope=None)) == 1


def test_nothing_buffered_flushes_nothing(registry: PartnershipRegistry) -> None:
    assert AccessRecorder(registry).flush() is None
    assert registry.max_position() == 0


def test_a_partner_outside_the_scope_has_no_entries(
    registry: PartnershipRegistry, store: ViewStore
) -> None:
    recorder = AccessRecorder(registry)
    recorder.record(HRO, ["org-a"], "partner")
    recorder.flush()
    project(registry, store)
    assert access_log(store, "org-a", None, None, scope=frozenset({"org-b"})) == []
    assert len(access_log(store, "org-a", None, None, scope=frozenset({"org-a"}))) == 1


def test_record_returns_in_microseconds_without_touching_storage(
    registry: PartnershipRegistry,
) -> None:
    recorder = AccessRecorder(registry, batch_size=1_000_000)
    started = time.perf_counter()
    for i in range(10_000):
        recorder.record(HRO, [f"org-{i % 50}"], "partners")
    per_call = (time.perf_counter() - started) / 10_000
    assert per_call < 50e-6, f"record() took {per_call * 1e6:.1f} µs"
    assert registry.max_position() == 0  # nothing was written by record()
    recorder.flush()
    assert registry.max_position() > 0


def test_record_does_not_wait_for_a_slow_flush_in_progress(registry: PartnershipRegistry) -> None:
    class SlowRegistry:
        def save(self, *aggregates: object) -> object:
            time.sleep(0.5)
            return registry.save(*aggregates)  # type: ignore[arg-type]

    recorder = AccessRecorder(SlowRegistry(), interval=0.01).start()
    try:
        recorder.record(HRO, ["org-a"], "partner")
        time.sleep(0.1)  # the thread is now inside the slow save
        started = time.perf_counter()
        recorder.record(HRO, ["org-b"], "partner")
        assert time.perf_counter() - started < 0.01
    finally:
        recorder.stop()
    assert recorder.pending == 0


def test_the_background_thread_flushes_about_every_interval(
    registry: PartnershipRegistry, store: ViewStore
) -> None:
    with AccessRecorder(registry, interval=0.05) as recorder:
        recorder.record(HRO, ["org-a"], "partner")
        deadline = time.monotonic() + 5
        while recorder.pending and time.monotonic() < deadline:
            time.sleep(0.01)
        assert recorder.pending == 0
        assert recorder.last_position is not None


def test_a_full_batch_is_flushed_before_the_interval(registry: PartnershipRegistry) -> None:
    with AccessRecorder(registry, interval=60, batch_size=10) as recorder:
        for i in range(10):
            recorder.record(HRO, [f"org-{i}"], "partners")
        deadline = time.monotonic() + 5
        while recorder.pending and time.monotonic() < deadline:
            time.sleep(0.01)
        assert recorder.pending == 0


def test_stopping_flushes_what_is_still_buffered(
    registry: PartnershipRegistry, store: ViewStore
) -> None:
    recorder = AccessRecorder(registry, interval=60).start()
    recorder.record(HRO, ["org-a"], "export")
    recorder.stop()
    project(registry, store)
    assert [e.operation for e in access_log(store, "org-a", None, None, scope=None)] == ["export"]


def test_a_failed_save_keeps_the_reads_for_the_next_flush(
    registry: PartnershipRegistry, store: ViewStore
) -> None:
    class FailingOnce:
        failed = False

        def save(self, *aggregates: object) -> object:
            if not self.failed:
                self.failed = True
                raise ConnectionError("database went away")
            return registry.save(*aggregates)  # type: ignore[arg-type]

    recorder = AccessRecorder(FailingOnce())
    recorder.record(HRO, ["org-a"], "partner")
    with pytest.raises(ConnectionError):
        recorder.flush()
    assert recorder.pending == 1
    recorder.record(HRO, ["org-a"], "timeline")
    recorder.flush()
    project(registry, store)
    assert [e.operation for e in access_log(store, "org-a", None, None, scope=None)] == [
        "partner",
        "timeline",
    ]


def test_an_access_log_refuses_reads_without_who_what_or_of_another_day() -> None:
    with acting_as(Actor("registry-access-log", SYSTEM)):
        log = AccessLog.open(date(2026, 3, 2))
        with pytest.raises(ValidationError):
            log.record_reads([])
        with pytest.raises(ValidationError):
            log.record_reads([Read("2026-03-02T10:00:00+00:00", "", "evaluator", "partner", "p")])
        with pytest.raises(ValidationError, match="another day"):
            log.record_reads([Read("2026-03-03T10:00:00+00:00", "e", "evaluator", "partner", "p")])
