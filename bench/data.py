"""Stores to measure: temporary SQLite files or PostgreSQL schemas, and realistic event mixes.

Events are written through the registry's real domain commands. ``batched`` saves one aggregate
with many pending events in one ``Application.save`` (what a bulk import does); the registry's
own commands save one event each.
"""

from __future__ import annotations

import base64
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID, uuid4

import psycopg

from api.bootstrap import library_env, storage_env
from api.settings import Settings
from domain.actors import RECORDER, Actor, acting_as
from domain.application import PartnershipRegistry
from domain.engagement import FollowUp
from domain.risk_assessment import Mitigation, Risk

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
ACTOR = Actor("bench-recorder", RECORDER)
EVENTS_PER_PARTNER = 50
"""One partner unit: partner 3 events, engagement 1 + 30 follow-ups, assessment 1 + 5 risks +
10 mitigations."""


@dataclass
class Store:
    """One backend to measure: its URL and master key (the settings every process shares)."""

    backend: str
    database_url: str
    master_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    folder: Path | None = None
    schema: str | None = None

    def settings(self, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "env": "test",
            "database_url": self.database_url,
            "master_key": base64.b64encode(self.master_key).decode(),
            "ledger_signing_key": base64.b64encode(b"b" * 32).decode(),
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    def env(self) -> dict[str, str]:
        return library_env(self.settings())

    def storage(self) -> dict[str, str]:
        return storage_env(self.database_url)

    def size_bytes(self) -> int:
        """Bytes the store occupies (SQLite file + WAL; the PostgreSQL schema's relations)."""
        if self.folder is not None:
            return sum(p.stat().st_size for p in self.folder.glob("registry.db*"))
        with psycopg.connect(POSTGRES_URL) as conn:
            row = conn.execute(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'm')",
                (self.schema,),
            ).fetchone()
        return int(row[0]) if row else 0

    def table_bytes(self, table: str) -> int:
        """Bytes of one table with its indexes (SQLite: dbstat when available, else 0)."""
        if self.folder is not None:
            import sqlite3

            with sqlite3.connect(self.folder / "registry.db") as conn:
                try:
                    row = conn.execute(
                        "SELECT SUM(pgsize) FROM dbstat WHERE name = ? OR name IN "
                        "(SELECT name FROM sqlite_master WHERE tbl_name = ? AND type = 'index')",
                        (table, table),
                    ).fetchone()
                except sqlite3.DatabaseError:
                    return 0
            return int(row[0] or 0)
        with psycopg.connect(POSTGRES_URL) as conn:
            found = conn.execute(
                "SELECT pg_total_relation_size(format('%I.%I', %s::text, %s::text)::regclass)",
                (self.schema, table),
            ).fetchone()
        return int(found[0]) if found else 0


@contextmanager
def temporary_store(backend: str, root: Path | None = None) -> Iterator[Store]:
    """A fresh SQLite file in a temporary folder, or a fresh PostgreSQL schema; removed after."""
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="bench-", dir=root))
        try:
            yield Store("sqlite", f"sqlite:///{folder / 'registry.db'}", folder=folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield Store("postgres", f"{POSTGRES_URL}?schema={schema}", schema=schema)
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def postgres_available() -> bool:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


# ---- writing events through the domain --------------------------------------------------------


def add_follow_ups(registry: PartnershipRegistry, engagement_id: UUID, count: int) -> int:
    """Batched: ``count`` FollowUpAdded events on one engagement, saved by one ``save``."""
    engagement = registry.get_engagement(engagement_id)
    for index in range(count):
        engagement.add_follow_up(
            FollowUp(uuid4(), f"Follow-up action number {index} agreed at the meeting", "Bench")
        )
    registry.save(engagement)
    return count


def update_mappings(registry: PartnershipRegistry, partner_id: UUID, count: int) -> int:
    """Batched: ``count`` ActorMappingUpdated events on one partner, saved by one ``save``."""
    from domain.partner import ActorMapping
    from domain.validation import valid_time

    partner = registry.get_partner(partner_id)
    for index in range(count):
        partner.update_actor_mapping(
            ActorMapping(1 + index % 5, 1 + (index // 5) % 5, "unknown", ()), valid_time(None)
        )
    registry.save(partner)
    return count


def partner_unit(
    registry: PartnershipRegistry, index: int, *, batched: bool = True, extra: int = 0
) -> UUID:
    """About ``EVENTS_PER_PARTNER`` events around one partner (see the constant), and ``extra``
    more follow-ups on its engagement, 50 a command."""
    with acting_as(ACTOR):
        partner_id = registry.register_partner(
            f"Bench Partner Organisation {index}",
            "national NGO",
            "national",
            acronym=f"BPO{index}",
            countries=("SS",),
            mission_context="bench",
        ).id
        registry.activate_partner(partner_id)
        update_mappings(registry, partner_id, 1)
        engagement_id = registry.record_engagement(
            "consultation",
            f"Bench consultation {index} with civil society",
            "2024-03-14",
            partners=[(partner_id, "participant")],
            summary="Summary of the discussion held with the partner.",
        ).id
        if batched:
            add_follow_ups(registry, engagement_id, 30)
        else:
            for n in range(30):
                registry.add_follow_up(engagement_id, f"Follow-up {n} agreed", "Bench")
        for done in range(0, extra, 50):
            add_follow_ups(registry, engagement_id, min(50, extra - done))
        assessment_id = registry.open_risk_assessment(partner_id, title=f"Assessment {index}").id
        assessment = registry.get_risk_assessment(assessment_id)
        for n in range(5):
            assessment.add_risk(
                Risk(
                    uuid4(),
                    "perceived partiality",
                    1 + n % 5,
                    2,
                    f"Risk {n} described at length",
                    "",
                )
            )
        for n in range(10):
            assessment.add_mitigation(Mitigation(uuid4(), f"Measure {n}", "Bench", None, "planned"))
        registry.save(assessment)
    return partner_id


def populate(registry: PartnershipRegistry, events: int) -> list[UUID]:
    """Partner units until about ``events`` events are stored; the partners' ids."""
    partners = []
    for index in range(max(1, events // EVENTS_PER_PARTNER)):
        partners.append(partner_unit(registry, index))
    return partners
