"""Projection rebuild, `registry verify` and time travel, on a store filled through the domain."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from api.runtime import build_registry, ledger_signer
from bench import once
from bench.common import Figure, Results, stopwatch
from bench.data import ACTOR, Store, populate, temporary_store, update_mappings
from domain.actors import ADMIN, Actor, acting_as
from projections.rebuild import rebuild_all
from projections.store import ViewStore
from security.ledger import AuditLedger

RUNS = 3
"""Runs of each of rebuild and verify, each in a fresh interpreter; the median is reported
(this machine's speed swings from one second to the next, all runs are in results.json)."""


def _median_run(what: str, env: dict[str, str]) -> dict[str, Any]:
    runs = [once.run(what, env) for _ in range(RUNS)]
    rates = [run["events"] / run["seconds"] for run in runs]
    middle = sorted(range(RUNS), key=rates.__getitem__)[RUNS // 2]
    return {
        "events": runs[middle]["events"],
        "events_per_s": rates[middle],
        "seconds": runs[middle]["seconds"],
        "runs_events_per_s": rates,
    }


def rebuild(results: Results, store: Store) -> dict[str, Any]:
    """Rebuild every view from cold (views dropped, a fresh process): events per second."""
    found = _median_run("rebuild", store.env())
    rate = found["events_per_s"]
    results.add(
        Figure(
            f"rebuild {store.backend}",
            f"projection rebuild from cold ({found['events']} events), median of {RUNS}", rate,
            "events/s", target=">= 30,000" if store.backend == "sqlite" else "",
            met=rate >= 30_000 if store.backend == "sqlite" else None,
        )
    )  # fmt: skip
    return found


def verify(results: Results, store: Store) -> dict[str, Any]:
    """`registry verify`: recompute every leaf and the tree from the stored events."""
    ledger = AuditLedger(store.storage(), ledger_signer(store.settings()))
    try:
        ledger.integrate()
    finally:
        ledger.close()
    found = _median_run("verify", store.storage())
    rate = found["events_per_s"]
    results.add(
        Figure(
            f"verify {store.backend}",
            f"registry verify ({found['events']} events), median of {RUNS}", rate,
            "events/s", target=">= 200,000" if store.backend == "sqlite" else "",
            met=rate >= 200_000 if store.backend == "sqlite" else None,
        )
    )  # fmt: skip
    return found


def time_travel(
    results: Results, store: Store, long: int, short: int, rounds: int
) -> dict[str, Any]:
    """partner(asOf) through the API's reader: a partner with ``long`` events vs ``short``."""
    from api.views import RegistryReader

    registry = build_registry(store.settings())
    try:
        moments: dict[int, Any] = {}
        ids: dict[int, Any] = {}
        for size in (long, short):
            with acting_as(ACTOR):
                partner_id = populate_partner(registry, size)
            ids[size] = partner_id
            moments[size] = datetime.now(UTC)
            with acting_as(ACTOR):
                update_mappings(registry, partner_id, 2)  # asOf names a past version
        rebuild_all(app=registry)
        reader = RegistryReader(
            Actor("bench-admin", ADMIN), ViewStore.for_application(registry), registry
        )
        timings: dict[int, float] = {}
        for size in (long, short):
            reader.partner(ids[size], moments[size])  # warm the views' key, caches
            with stopwatch() as elapsed:
                for _ in range(rounds):
                    view = reader.partner(ids[size], moments[size])
            assert view.version == size, (view.version, size)
            timings[size] = elapsed() / rounds * 1000
    finally:
        registry.close()
    ratio = timings[long] / timings[short]
    section = f"time travel {store.backend}"
    results.add(Figure(section, f"partner(asOf), {short} events", timings[short], "ms"))
    results.add(
        Figure(
            section, f"partner(asOf), {long} events", timings[long], "ms", timings[short],
            f"{short} events", "<= 2x", ratio <= 2.0,
        )
    )  # fmt: skip
    return {"long_ms": timings[long], "short_ms": timings[short], "ratio": ratio}


def populate_partner(registry: Any, events: int) -> Any:
    """A partner with exactly ``events`` events (register, then actor mapping updates)."""
    with acting_as(ACTOR):
        partner_id = registry.register_partner("Bench Long History", "national NGO", "national").id
    left = events - 1
    while left > 0:
        step = min(500, left)
        update_mappings(registry, partner_id, step)
        left -= step
    return partner_id


def run(
    results: Results,
    backend: str,
    events: int,
    *,
    with_verify: bool,
    tt: tuple[int, int, int] | None,
) -> dict[str, Any]:
    details: dict[str, Any] = {}
    with temporary_store(backend) as store:
        registry = build_registry(store.settings())
        try:
            with stopwatch() as elapsed:
                populate(registry, events)
            details["load_events_per_s"] = registry.max_position() / elapsed()
        finally:
            registry.close()
        details["rebuild"] = rebuild(results, store)
        if with_verify:
            details["verify"] = verify(results, store)
    if tt is not None:
        with temporary_store(backend) as store:
            details["time_travel"] = time_travel(results, store, *tt)
    return details
