"""A tiny application holding personal data, and raw access to the rows and files it writes."""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from domain.personal_data import PersonalData
from tests.backends import POSTGRES_URL, Backend


class ContactCard(Aggregate):
    """A record naming a person, with notes that carry no personal data."""

    @event("Opened")
    def __init__(self, contact: PersonalData, summary: str) -> None:
        self.contact = contact
        self.summary = summary
        self.notes: list[str] = []

    @event("Noted")
    def note(self, text: str) -> None:
        self.notes.append(text)


class ContactCards(Application[UUID]):
    """The application under test: saves cards, snapshots when asked."""

    is_snapshotting_enabled = True
    opened: ClassVar[list[ContactCards]] = []

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        ContactCards.opened.append(self)

    def open_card(self, contact: PersonalData, summary: str) -> UUID:
        card = ContactCard(contact, summary)
        self.save(card)
        return card.id

    def add_note(self, card_id: UUID, text: str) -> None:
        card: ContactCard = self.repository.get(card_id)
        card.note(text)
        self.save(card)

    def card(self, card_id: UUID, version: int | None = None) -> ContactCard:
        found: ContactCard = self.repository.get(card_id, version=version)
        return found


def close_contact_cards() -> Iterator[None]:
    """Fixture body: close every ContactCards opened by a test, releasing its connections."""
    yield
    while ContactCards.opened:
        ContactCards.opened.pop().close()
    gc.collect()  # drop key stores (and their connections) no application uses any more


def table(backend: Backend, purpose: str = "events") -> str:
    """The library's table of stored events or snapshots for ContactCards on this backend."""
    if backend.postgres_schema is None:
        return f"stored_{purpose}"
    return f"{backend.postgres_schema}.contactcards_{purpose}"


@contextmanager
def raw_connection(backend: Backend) -> Iterator[Any]:
    """A DB-API connection straight to the backend, bypassing the library, committing on exit."""
    if backend.sqlite_path is not None:
        conn = sqlite3.connect(backend.sqlite_path)
        try:
            yield conn
            conn.commit()
        finally:
            conn.close()
    else:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as pg:
            yield pg


def _sql(backend: Backend, statement: str) -> str:
    return statement if backend.sqlite_path is not None else statement.replace("?", "%s")


def stored_state(backend: Backend, stream_id: UUID, version: int, purpose: str = "events") -> bytes:
    with raw_connection(backend) as conn:
        row = conn.execute(
            _sql(
                backend,
                f"SELECT state FROM {table(backend, purpose)} "
                "WHERE originator_id = ? AND originator_version = ?",
            ),
            (_id(backend, stream_id), version),
        ).fetchone()
    return bytes(row[0])


def overwrite_state(
    backend: Backend, stream_id: UUID, version: int, state: bytes, purpose: str = "events"
) -> None:
    with raw_connection(backend) as conn:
        conn.execute(
            _sql(
                backend,
                f"UPDATE {table(backend, purpose)} SET state = ? "
                "WHERE originator_id = ? AND originator_version = ?",
            ),
            (state, _id(backend, stream_id), version),
        )


def stored_rows(backend: Backend) -> list[tuple[str, int, str]]:
    """(stream id, version, topic) of every stored event, as anyone with the database sees them."""
    with raw_connection(backend) as conn:
        rows = conn.execute(
            f"SELECT originator_id, originator_version, topic FROM {table(backend)}"
        ).fetchall()
    return [(str(r[0]), int(r[1]), str(r[2])) for r in rows]


def raw_storage_bytes(backend: Backend) -> bytes:
    """Every byte the backend keeps on disk for this database.

    SQLite: the database file and its WAL. PostgreSQL: after CHECKPOINT (so shared buffers are
    written), every file of the test database's directory under data_directory; reading files
    needs the server's file system (root on this machine), which shows what a stolen disk shows.
    The server's WAL (pg_wal) is not scanned: it keeps old row images until recycled.
    """
    if backend.sqlite_path is not None:
        files = [backend.sqlite_path, Path(f"{backend.sqlite_path}-wal")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        data_directory = conn.execute("SHOW data_directory").fetchone()[0]  # type: ignore[index]
        oid = conn.execute(
            "SELECT oid FROM pg_database WHERE datname = current_database()"
        ).fetchone()[0]  # type: ignore[index]
    chunks = []
    for path in sorted(Path(data_directory, "base", str(oid)).iterdir()):
        try:
            chunks.append(path.read_bytes())
        except (FileNotFoundError, IsADirectoryError):
            continue
    return b"".join(chunks)


def _id(backend: Backend, stream_id: UUID) -> Any:
    return stream_id.hex if backend.sqlite_path is not None else stream_id
