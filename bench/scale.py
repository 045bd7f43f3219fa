"""Scale: load N events (1,000,000 by default) on SQLite, storage per event, server RSS."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from api.runtime import build_registry
from bench import http
from bench.common import Figure, Results, stopwatch
from bench.data import ACTOR, partner_unit, temporary_store
from domain.actors import acting_as
from projections.rebuild import rebuild_all


def run(results: Results, events: int) -> dict[str, Any]:
    section = f"scale sqlite {events:,}"
    with temporary_store("sqlite") as store:
        registry = build_registry(store.settings())
        try:
            with stopwatch() as elapsed:
                index = 0
                while registry.max_position() < events:
                    partner_unit(registry, index)
                    index += 1
                    if index % 200 == 0:
                        print(f"    loaded {registry.max_position():,} events", flush=True)
            stored = registry.max_position()
            load_rate = stored / elapsed()
            with acting_as(ACTOR):
                target = partner_unit(registry, index)
                for n in range(60):
                    registry.record_engagement(
                        "consultation", f"Timeline consultation {n}", "2023-05-01",
                        partners=[(target, "participant")],
                    )  # fmt: skip
            event_bytes = store.size_bytes()
            with stopwatch() as rebuilt:
                rebuild_all(app=registry)
        finally:
            registry.close()
        total_bytes = store.size_bytes()
        events_table = store.table_bytes("stored_events")
        snapshots = store.table_bytes("snapshots")
        with (
            tempfile.TemporaryDirectory(prefix="bench-scale-") as folder,
            http.server(store, Path(folder)) as (url, token, process),
        ):
            graph, plain = http.measure(url, token, target, 16, 10.0)
            rss = http.rss_mb(process.pid)
    results.add(Figure(section, "load rate (partner units, batched saves)", load_rate, "events/s"))
    results.add(
        Figure(
            section,
            "storage: events + keys + snapshots + ledger-free",
            event_bytes / stored,
            "bytes/event",
        )
    )
    if events_table:
        results.add(
            Figure(
                section, "storage: stored_events table alone", events_table / stored, "bytes/event"
            )
        )
    results.add(Figure(section, "storage: with the views", total_bytes / stored, "bytes/event"))
    results.add(Figure(section, "rebuild from cold", stored / rebuilt(), "events/s"))
    results.add(
        Figure(
            section,
            "GraphQL timeline requests/s while serving",
            graph.rate,
            "req/s",
            plain.rate,
            "plain FastAPI",
        )
    )
    results.add(
        Figure(
            section, "server RSS while serving queries", rss, "MB", target="< 500 MB", met=rss < 500
        )
    )
    return {
        "events": stored,
        "load_events_per_s": load_rate,
        "bytes_per_event_events_only": event_bytes / stored,
        "bytes_per_event_stored_events_table": events_table / stored if events_table else None,
        "snapshots_bytes": snapshots,
        "bytes_per_event_with_views": total_bytes / stored,
        "rebuild_events_per_s": stored / rebuilt(),
        "graphql_rps": graph.rate,
        "plain_rps": plain.rate,
        "graphql_p99_ms": graph.ms(0.99),
        "server_rss_mb": rss,
        "pid": os.getpid(),
    }
