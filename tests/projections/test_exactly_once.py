"""Each event reaches the views exactly once: crash before commit, repeated batch, resume."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from domain.application import PartnershipRegistry
from projections.follower import project_pending
from projections.projection import Item, RegistryProjection
from projections.store import ViewStore


class CrashError(Exception):
    pass


def items_of(registry: PartnershipRegistry) -> list[Item]:
    notifications = registry.recorder.select_notifications(start=None, limit=1000)
    return [
        (registry.mapper.to_domain_event(n), Tracking(registry.name, n.id)) for n in notifications
    ]


def count(store: ViewStore, table: str) -> int:
    return int(store.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])


def test_a_crash_between_processing_and_commit_leaves_nothing_and_the_rerun_adds_once(
    registry: PartnershipRegistry, store: ViewStore, projection: RegistryProjection
) -> None:
    registry.register_partner("Alpha", "national NGO", "national")
    registry.register_partner("Beta", "media", "local")

    def crash_before_commit() -> None:
        with store.writing() as cursor:
            projection.write_batch(cursor, items_of(registry))
            raise CrashError

    with pytest.raises(CrashError):
        crash_before_commit()

    assert count(store, "view_partners") == 0
    assert store.max_tracking_id(registry.name) is None
    assert project_pending(registry, projection) == 2
    assert count(store, "view_partners") == 2
    assert count(store, "view_history") == 2
    assert count(store, "view_timeline") == 2


def test_a_batch_already_in_the_views_is_refused_and_adds_no_duplicate(
    registry: PartnershipRegistry, store: ViewStore, projection: RegistryProjection
) -> None:
    registry.register_partner("Alpha", "national NGO", "national")
    items = items_of(registry)
    projection.process_batch(items)

    with pytest.raises(IntegrityError):
        projection.process_batch(items)

    assert count(store, "view_partners") == 1
    assert count(store, "view_history") == 1
    assert store.max_tracking_id(registry.name) == items[-1][1].notification_id


def test_projection_resumes_after_the_tracked_position(
    registry: PartnershipRegistry, store: ViewStore, projection: RegistryProjection
) -> None:
    first = registry.register_partner("Alpha", "national NGO", "national")
    assert project_pending(registry, projection) == 1

    registry.suspend_partner(first.id, "threats against staff")
    restarted = RegistryProjection(ViewStore.for_application(registry))

    assert project_pending(registry, restarted) == 1
    assert count(store, "view_history") == 2
    rows = store.query("SELECT status, version FROM view_partners")
    assert rows == [{"status": "suspended", "version": 2}]
