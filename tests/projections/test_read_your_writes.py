"""A mutation that waits for its position is visible to the next query, in both modes."""

from __future__ import annotations

import pytest

from domain.application import PartnershipRegistry
from projections.follower import TrackingWaiter, ViewFollower
from projections.queries.partners import PartnerFilter, list_partners
from projections.store import ViewStore
from tests.backends import Backend


def test_embedded_follower_returns_once_the_change_is_in_the_views(
    registry: PartnershipRegistry, store: ViewStore
) -> None:
    with ViewFollower(registry, store, poll_interval=5.0) as follower:
        for n in range(5):
            recorded = registry.register_partner(f"Partner {n}", "network", "regional")
            follower.wait_until_projected(recorded.position, timeout=5)
            page = list_partners(store, PartnerFilter(search=f"partner {n}"), scope=None)
            assert [row.partner_id for row in page.rows] == [str(recorded.id)]


def test_another_process_waits_on_the_tracking_row_written_by_the_worker(
    backend: Backend, registry: PartnershipRegistry, store: ViewStore
) -> None:
    worker_app = PartnershipRegistry(backend.env())  # stands for the worker process
    try:
        with ViewFollower(worker_app, poll_interval=0.05):
            recorded = registry.register_partner("Gamma", "trade union", "national")
            TrackingWaiter(store, registry.name).wait_until_projected(recorded.position, 5)
            rows = store.query("SELECT partner_id, name FROM view_partners", sealed="view_partners")
            assert rows == [{"partner_id": str(recorded.id), "name": "Gamma"}]
    finally:
        worker_app.close()


def test_waiting_without_a_follower_times_out(
    registry: PartnershipRegistry, store: ViewStore
) -> None:
    recorded = registry.register_partner("Delta", "media", "local")
    with pytest.raises(TimeoutError):
        TrackingWaiter(store, registry.name).wait_until_projected(recorded.position, 0.1)
