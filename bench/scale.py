"""Scale: load N events (1,000,000 by default) on SQLite, storage per event, server RSS."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from api.runtime import build_registry, ledger_signer
from bench import http
from bench.common import Figure, Results, stopwatch
from bench.data import ACTOR, partner_unit, temporary_store
from domain.actors import acting_as
from projections.rebuild import rebuild_all
from security.ledger import AuditLedger, verify_store

EXTRA = 150
"""Follow-ups added to each partner unit's engagement (50 a command): 200 events a unit."""


def run(results: Results, events: int) -> dict[str, Any]:
    section = f"scale sqlite {events:,}"
    with temporary_store("sqlite") as store:
        registry = build_registry(store.settings())
        try:
            with stopwatch() as elapsed:
                index = 0
                while registry.max_position() < events:
                    partner_unit(registry, index, extra=EXTRA)
                    index += 1
                    if index % 100 == 0:
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
            ledger = AuditLedger(store.storage(), ledger_signer(store.settings()))
            try:
                with stopwatch() as integrating:
                    size = ledger.integrate()
            finally:
                ledger.close()
            with stopwatch() as verifying:
                assert verify_store(store.storage()).ok
            before_views = store.size_bytes()
            with stopwatch() as rebuilding:
                rebuilt = rebuild_all(app=registry)
        finally:
            registry.close()
        total_bytes = store.size_bytes()
        events_table = store.table_bytes("stored_events")
        with (
            tempfile.TemporaryDirectory(prefix="bench-scale-") as folder,
            http.server(store, Path(folder)) as (url, token, process),
        ):
            graph, plain = http.measure(url, token, target, 16, 10.0)
            rss = http.rss_mb(process.pid)
    figures = [
        Figure(section, "load rate (partner units, 50 events a command)", load_rate, "events/s"),
        Figure(section, "ledger integration", size / integrating(), "events/s"),
        Figure(section, "registry verify", size / verifying(), "events/s"),
        Figure(section, "rebuild from cold", rebuilt / rebuilding(), "events/s"),
        Figure(section, "storage: stored_events table", events_table / stored, "bytes/event"),
        Figure(section, "storage: events, snapshots, keys, ledger", before_views / stored, "bytes/event"),
        Figure(section, "storage: all, with the views", total_bytes / stored, "bytes/event"),
        Figure(
            section, "GraphQL timeline page of 50, 16 clients", graph.rate, "req/s", plain.rate,
            "plain FastAPI",
        ),
        Figure(section, "GraphQL p99", graph.ms(0.99), "ms", plain.ms(0.99), "plain FastAPI"),
        Figure(
            section, "server RSS while serving queries", rss, "MB", target="< 500 MB",
            met=rss < 500,
        ),
    ]  # fmt: skip
    for figure in figures:
        results.add(figure)
    return {
        "events": stored,
        "load_events_per_s": load_rate,
        "ledger_events_per_s": size / integrating(),
        "verify_events_per_s": size / verifying(),
        "rebuild_events_per_s": rebuilt / rebuilding(),
        "bytes_per_event_stored_events_table": events_table / stored,
        "bytes_per_event_before_views": before_views / stored,
        "bytes_per_event_with_views": total_bytes / stored,
        "graphql_rps": graph.rate,
        "plain_rps": plain.rate,
        "graphql_p99_ms": graph.ms(0.99),
        "server_rss_mb": rss,
    }
