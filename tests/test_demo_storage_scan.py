"""Issue 2, point 6: the demo, loaded and projected, is not readable anywhere in raw storage.

The demo is loaded through the application's commands and every view is built (as the server
does in-process). Then the raw storage is scanned for the demo's texts as UTF-8 bytes:

- SQLite: the database file and its ``-wal`` file, while the application is open (so recent
  pages still sit in the WAL), and the database file again after it closed (checkpointed).
- PostgreSQL: every row of every table of the test schema (text columns as text, ``bytea`` as
  bytes); after ``CHECKPOINT``, the files of every relation of the schema (tables, indexes,
  TOAST) in the data directory; and the WAL segments written while the test ran (read before
  the checkpoint, which may recycle them). The file checks run when the data directory is
  readable by this process (a local server, tests run as root or the postgres user); a
  segment already recycled is skipped.

Searched: organisation names, acronyms of 4 or more letters (2- and 3-letter acronyms such as
"HD" or "CR" occur by chance in megabytes of random ciphertext), contact names, e-mails and
phones, engagement titles, summaries and locations, risk descriptions, mitigation measures and
owners, decision rationales and conditions. Vocabulary codes (kinds, roles, outcomes) are not
searched: they are stored in the clear by design, for filtering.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from api.demo_data import dataset_path, load_demo
from api.runtime import build_registry
from domain.application import PartnershipRegistry
from projections.follower import project_pending
from projections.projection import RegistryProjection
from projections.queries.partners import list_partners
from projections.queries.timeline import timeline
from projections.store import ViewStore
from tests.backends import POSTGRES_URL, Backend

MIN_ACRONYM = 4
MIN_TEXT = 6


def demo_texts() -> dict[str, str]:
    """Every searched text of the demo dataset, with where it comes from."""
    data: dict[str, Any] = json.loads(dataset_path().read_text(encoding="utf-8"))
    found: dict[str, str] = {}

    def add(text: object, where: str, minimum: int = MIN_TEXT) -> None:
        if isinstance(text, str) and len(text.strip()) >= minimum:
            found.setdefault(text.strip(), where)

    for org in data["organisations"]:
        add(org["name"], f"organisation {org['key']}: name")
        add(org.get("acronym"), f"organisation {org['key']}: acronym", MIN_ACRONYM)
        for former in org.get("former_names", ()):
            add(former, f"organisation {org['key']}: former name")
    for contact in data["contacts"]:
        for field in ("name", "email", "phone"):
            add(contact.get(field), f"contact of {contact['org']}: {field}")
    for item in data["engagements"]:
        for field in ("title", "summary", "location"):
            add(item.get(field), f"engagement {item['key']}: {field}")
    for item in data["risk_assessments"]:
        for risk in item.get("risks", ()):
            add(risk.get("description"), f"assessment {item['key']}: risk description")
        for mitigation in item.get("mitigations", ()):
            add(mitigation.get("measure"), f"assessment {item['key']}: mitigation measure")
            add(mitigation.get("owner"), f"assessment {item['key']}: mitigation owner")
    for item in data["decisions"]:
        add(item.get("rationale"), f"decision {item['key']}: rationale")
        for condition in item.get("conditions", ()):
            add(condition, f"decision {item['key']}: condition")
    return found


def leaks(blob: bytes, texts: dict[str, str]) -> list[str]:
    return sorted(f"{where}: {text!r}" for text, where in texts.items() if text.encode() in blob)


def load_and_project(registry: PartnershipRegistry) -> ViewStore:
    load_demo(registry)
    store = ViewStore.for_application(registry)
    store.create_table()
    project_pending(registry, RegistryProjection(store))
    assert store.max_tracking_id(registry.name) == registry.max_position()
    return store


def assert_views_answer_in_clear(store: ViewStore) -> None:
    """The scan means something: the views hold the demo, and queries decrypt it."""
    data: dict[str, Any] = json.loads(dataset_path().read_text(encoding="utf-8"))
    names = {row.name for row in list_partners(store, first=100, scope=None).rows}
    assert {org["name"] for org in data["organisations"]} <= names
    assert timeline(store, first=5, scope=None).entries


def test_the_demo_is_unreadable_in_raw_storage(backend: Backend) -> None:
    texts = demo_texts()
    assert len(texts) > 50
    registry = build_registry(backend.settings())
    try:
        if backend.sqlite_path is not None:
            store = load_and_project(registry)
            assert_views_answer_in_clear(store)
            blob = read_sqlite_files(backend.sqlite_path)
            assert Path(f"{backend.sqlite_path}-wal").exists(), "expected a WAL file while open"
        else:
            start_lsn = current_wal_lsn()
            store = load_and_project(registry)
            assert_views_answer_in_clear(store)
            blob = postgres_rows(backend) + postgres_wal(start_lsn)
            blob += postgres_relation_files(backend)
    finally:
        registry.close()
    assert leaks(blob, texts) == []
    if backend.sqlite_path is not None:
        assert leaks(read_sqlite_files(backend.sqlite_path), texts) == []


def read_sqlite_files(path: Path) -> bytes:
    blob = b""
    for suffix in ("", "-wal", "-journal", "-shm"):
        file = Path(f"{path}{suffix}")
        if file.exists():
            blob += file.read_bytes()
    assert blob
    return blob


def current_wal_lsn() -> str:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    return str(row[0])


def _tables(conn: psycopg.Connection[Any], schema: str) -> list[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name",
        (schema,),
    ).fetchall()
    return [str(r[0]) for r in rows]


def postgres_rows(backend: Backend) -> bytes:
    """Every value of every row of every table of the schema: text as UTF-8, bytea as is."""
    schema = backend.postgres_schema
    assert schema is not None
    parts: list[bytes] = []
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        tables = _tables(conn, schema)
        assert {"view_partners", "view_timeline", "registry_keys"} <= set(tables), tables
        for table in tables:
            query = sql.SQL("SELECT * FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            with conn.cursor(binary=True) as cursor:
                cursor.execute(query)
                for row in cursor.fetchall():
                    parts.extend(_as_bytes(value) for value in row)
            # And each row as PostgreSQL prints it (text output of every type).
            text_query = sql.SQL("SELECT t::text FROM {}.{} t").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            for (text,) in conn.execute(text_query).fetchall():
                parts.append(str(text).encode())
    return b"\n".join(parts)


def _as_bytes(value: object) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def _data_directory(conn: psycopg.Connection[Any]) -> Path | None:
    row = conn.execute("SHOW data_directory").fetchone()
    folder = Path(str(row[0])) if row else None
    return folder if folder is not None and folder.is_dir() else None


def postgres_wal(start_lsn: str) -> bytes:
    """The WAL segments from ``start_lsn`` to now, as far as they exist (read before CHECKPOINT)."""
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        folder = _data_directory(conn)
        if folder is None:
            return b""
        names = conn.execute(
            "SELECT pg_walfile_name(%s::pg_lsn), pg_walfile_name(pg_current_wal_lsn())",
            (start_lsn,),
        ).fetchone()
    assert names is not None
    first, last = str(names[0]), str(names[1])
    wal = folder / "pg_wal"
    return b"".join(
        segment.read_bytes()
        for segment in sorted(wal.iterdir())
        if len(segment.name) == 24 and first <= segment.name <= last and segment.is_file()
    )


def postgres_relation_files(backend: Backend) -> bytes:
    """After CHECKPOINT: the files of the schema's tables, indexes and TOAST relations."""
    schema = backend.postgres_schema
    assert schema is not None
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        folder = _data_directory(conn)
        if folder is None:
            return b""
        conn.execute("CHECKPOINT")
        rows = conn.execute(
            "SELECT pg_relation_filepath(c.oid) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s"
            " UNION SELECT pg_relation_filepath(t.oid) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_class t ON t.oid = c.reltoastrelid WHERE n.nspname = %s"
            " UNION SELECT pg_relation_filepath(i.indexrelid) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_index i ON i.indrelid = c.reltoastrelid WHERE n.nspname = %s",
            (schema, schema, schema),
        ).fetchall()
    files = [folder / str(r[0]) for r in rows if r[0] is not None]
    assert files
    return b"".join(_segments(file) for file in files)


def _segments(file: Path) -> bytes:
    return b"".join(path.read_bytes() for path in _segment_paths(file))


def _segment_paths(file: Path) -> Iterator[Path]:
    if file.exists():
        yield file
    n = 1
    while (found := file.with_name(f"{file.name}.{n}")).exists():
        yield found
        n += 1
