"""Append throughput: the registry (encrypted) beside the plain library and raw sqlite3."""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

from api.bootstrap import storage_env
from api.runtime import build_registry, ledger_signer
from bench.common import Figure, Results, percentile, stopwatch
from bench.data import ACTOR, Store, add_follow_ups, partner_unit, temporary_store
from domain.actors import acting_as
from domain.application import PartnershipRegistry
from security.ledger import AuditLedger

BATCH = 100
"""Events per command in the batched figures (follow-ups added to one engagement, one save)."""
PER_ENGAGEMENT = 200
ROUNDS = 5
"""Alternating rounds of each comparison (registry, plain library, registry, ...)."""
CACHED = {"AGGREGATE_CACHE_MAXSIZE": "1000"}
"""The library's aggregate cache (fast-forwarded on each get), which the app does not enable."""


def _target(backend: str, target: str, met: bool) -> tuple[str, bool | None]:
    """The issue states the append targets for SQLite; PostgreSQL's figures are shown beside."""
    return (target, met) if backend == "sqlite" else ("", None)


def plain_registry(store: Store) -> PartnershipRegistry:
    """The same application and events on the plain library: default Mapper, no cipher, the
    library's own persistence (factory, datastore and recorders)."""
    env = storage_env(store.database_url)
    env.pop("APPLICATION_RECORDER_TOPIC", None)  # the library's own recorder
    env["PERSISTENCE_MODULE"] = f"eventsourcing.{store.backend}"  # and factory
    env.update({"IS_SNAPSHOTTING_ENABLED": "y", "REGISTRY_SNAPSHOT_INTERVAL": "50"})
    return PartnershipRegistry(env=env)


def _engagements(registry: PartnershipRegistry, count: int) -> list[UUID]:
    found = []
    with acting_as(ACTOR):
        for index in range(count):
            partner_id = partner_unit(registry, index)
            engagement_id = registry.record_engagement(
                "consultation",
                f"Bench engagement {index}",
                "2024-03-14",
                partners=[(partner_id, "participant")],
            ).id
            found.append(engagement_id)
    return found


def batched(registry: PartnershipRegistry, events: int) -> float:
    """Events per second, ``BATCH`` events per save, at most ``PER_ENGAGEMENT`` per engagement
    (a record's snapshot grows with it: 2,000 follow-ups on one engagement halve the rate)."""
    count = max(10, events // PER_ENGAGEMENT)
    engagements = _engagements(registry, count)
    with acting_as(ACTOR), stopwatch() as elapsed:
        done = 0
        while done < events:
            done += add_follow_ups(registry, engagements[(done // BATCH) % count], BATCH)
    return done / elapsed()


def single(registry: PartnershipRegistry, commands: int) -> tuple[float, list[float]]:
    """Events per second and each command's latency (s): the registry's own add_follow_up."""
    engagements = _engagements(registry, 10)
    latencies = []
    with acting_as(ACTOR), stopwatch() as elapsed:
        for n in range(commands):
            start = time.perf_counter()
            registry.add_follow_up(engagements[n % 10], f"Follow-up {n} agreed", "Bench")
            latencies.append(time.perf_counter() - start)
    return commands / elapsed(), latencies


def state_size(store: Store) -> float:
    """Mean stored payload bytes of FollowUpAdded events in this store."""
    registry = PartnershipRegistry(env=store.storage())
    try:
        notifications = registry.recorder.select_notifications(start=None, limit=20_000)
        sizes = [len(n.state) for n in notifications if n.topic.endswith("FollowUpAdded")]
    finally:
        registry.close()
    return sum(sizes) / max(1, len(sizes))


def raw_sqlite(folder: Path, events: int, payload: int) -> float:
    """The machine's limit: sqlite3 executemany of rows shaped like the library's, WAL."""
    path = folder / "raw.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, "
            "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
        )
        state = bytes(payload)
        topic = "domain.engagement:Engagement.FollowUpAdded"
        ids = [f"{n:032x}" for n in range(10)]
        with stopwatch() as elapsed:
            done = 0
            while done < events:
                stream = ids[(done // BATCH) % 10]
                rows = [(stream, done + i, topic, state) for i in range(BATCH)]
                conn.execute("BEGIN")
                conn.executemany("INSERT INTO stored_events VALUES (?,?,?,?)", rows)
                conn.execute("COMMIT")
                done += BATCH
        return done / elapsed()
    finally:
        conn.close()


def ledger_rate(store: Store) -> tuple[float, int]:
    """Integrate every stored event into a fresh ledger: events per second."""
    ledger = AuditLedger(store.storage(), ledger_signer(store.settings()))
    try:
        with stopwatch() as elapsed:
            size = ledger.integrate()
        return size / elapsed(), size
    finally:
        ledger.close()


def run(results: Results, backend: str, events: int, commands: int) -> dict[str, Any]:
    """Each comparison in ``ROUNDS`` alternating rounds on fresh stores, so that a change in the
    machine's load in the middle of the run falls on both sides: the batched rates of the pair
    of rounds whose ratio is the median, and the latencies of every round pooled for the
    percentiles."""
    section = f"append {backend}"
    details: dict[str, Any] = {}
    rates, plain_rates = [], []
    ledger = payload = 0.0
    size = 0
    for round_ in range(ROUNDS):
        with temporary_store(backend) as store:
            registry = build_registry(store.settings())
            try:
                rates.append(batched(registry, events))
            finally:
                registry.close()
            if round_ == 0:
                ledger, size = ledger_rate(store)
                payload = state_size(store)
        with temporary_store(backend) as store:
            plain = plain_registry(store)
            try:
                plain_rates.append(batched(plain, events))
            finally:
                plain.close()
    # The pair (a registry round and the plain round right after it) whose ratio is the median:
    # a slow spell of the machine falls on one pair, not on one side of every comparison.
    ratios = [ours / plain for ours, plain in zip(rates, plain_rates, strict=True)]
    middle = sorted(range(ROUNDS), key=ratios.__getitem__)[ROUNDS // 2]
    rate, plain_rate = rates[middle], plain_rates[middle]
    results.add(
        Figure(
            section, f"batched ({BATCH} events/command), encrypted, median pair of {ROUNDS}", rate,
            "events/s", plain_rate, "plain library", *_target(backend, ">= 1.0x plain", rate >= plain_rate),
        )
    )  # fmt: skip
    if backend == "sqlite":
        with temporary_store(backend) as store:
            assert store.folder is not None
            raw = raw_sqlite(store.folder, events, round(payload))
        results.add(
            Figure(
                section, f"batched, encrypted vs raw sqlite3 executemany ({payload:.0f} B rows)",
                rate, "events/s", raw, "raw sqlite3",
            )
        )  # fmt: skip
        details["raw_sqlite_events_per_s"] = raw
    results.add(
        Figure(
            section, f"ledger integration ({size} events, after the appends)", ledger, "events/s",
            rate, "batched appends",
        )
    )  # fmt: skip
    variants: dict[str, Callable[[Store], PartnershipRegistry]] = {
        "registry": lambda s: build_registry(s.settings()),
        "plain": plain_registry,
        "cached": lambda s: PartnershipRegistry(env={**s.env(), **CACHED}),
    }
    rates_of: dict[str, list[float]] = {name: [] for name in variants}
    times_of: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(ROUNDS):
        for name, open_app in variants.items():
            with temporary_store(backend) as store:
                app = open_app(store)
                try:
                    found, times = single(app, commands)
                finally:
                    app.close()
            rates_of[name].append(found)
            times_of[name].extend(times)
    single_rate, plain_single, cached_single = (
        statistics.median(rates_of[name]) for name in variants
    )
    latencies, plain_latencies, cached_latencies = (times_of[name] for name in variants)
    p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
    cached_p99 = percentile(cached_latencies, 0.99) * 1000
    plain_p99 = percentile(plain_latencies, 0.99) * 1000
    results.add(
        Figure(
            section, "single-event commands (add_follow_up), encrypted", single_rate, "events/s",
            plain_single, "plain library",
        )
    )  # fmt: skip
    results.add(Figure(section, "single-event command p50", p50, "ms"))
    results.add(
        Figure(
            section, "single-event command p99", p99, "ms", plain_p99, "plain library",
            *_target(backend, "< 5 ms", p99 < 5.0),
        )
    )  # fmt: skip
    results.add(
        Figure(
            section, "single-event command p99 with the library's aggregate cache (not enabled)",
            cached_p99, "ms", p99, "as shipped", *_target(backend, "< 5 ms", cached_p99 < 5.0),
        )
    )  # fmt: skip
    details.update(
        rounds=ROUNDS,
        batched_rounds_events_per_s=rates,
        plain_batched_rounds_events_per_s=plain_rates,
        cached_single_events_per_s=cached_single,
        cached_single_p99_ms=cached_p99,
        batched_events_per_s=rate,
        plain_batched_events_per_s=plain_rate,
        ledger_events_per_s=ledger,
        payload_bytes=payload,
        single_events_per_s=single_rate,
        plain_single_events_per_s=plain_single,
        single_p50_ms=p50,
        single_p99_ms=p99,
        plain_single_p99_ms=plain_p99,
    )
    return details
