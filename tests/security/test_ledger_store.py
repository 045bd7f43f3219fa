"""The audit ledger on real backends: integration, checkpoints, proofs, and the tamper matrix."""

from __future__ import annotations

import importlib.util
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from security.ledger import verify as verify_module
from security.ledger.checkpoint import CheckpointSigner
from security.ledger.leaf import fast_leaf_hash, leaf_for_event
from security.ledger.ledger import AuditLedger, EventNotInLedgerError
from security.ledger.merkle import ProofError
from security.ledger.proofs import to_json
from security.ledger.scan import check_range
from security.ledger.store import LedgerStore
from security.ledger.verify import verify_proof, verify_store
from tests.backends import POSTGRES_URL, Backend

APP = "Notebooks"
HAS_ENVELOPE = importlib.util.find_spec("security.envelope") is not None


class Notebook(Aggregate):
    """A stream of events with nothing personal in it."""

    @event("Opened")
    def __init__(self, title: str) -> None:
        self.title = title

    @event("Noted")
    def note(self, text: str) -> None:
        self.title = text


class Notebooks(Application[UUID]):
    """A tiny application that stores events exactly as the registry does (enveloped if it can)."""


def app_env(backend: Backend) -> dict[str, str]:
    env = backend.env()
    if not HAS_ENVELOPE:
        env.pop("MAPPER_TOPIC", None)
        env.pop("CIPHER_TOPIC", None)
    env.pop("IS_SNAPSHOTTING_ENABLED", None)
    # Small pools: other suites share this PostgreSQL server and its 100 connections.
    env.update({"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "4"})
    return env


def write_events(app: Notebooks, streams: int = 4, notes: int = 5) -> list[UUID]:
    ids = []
    for s in range(streams):
        book = Notebook(f"book {s}")
        app.save(book)
        ids.append(book.id)
    for n in range(notes):
        for book_id in ids:
            found: Notebook = app.repository.get(book_id)
            found.note(f"note {n}")
            app.save(found)
    return ids


@pytest.fixture
def signer() -> CheckpointSigner:
    return CheckpointSigner(Ed25519PrivateKey.generate(), "test.example/ledger")


@pytest.fixture
def app(backend: Backend) -> Iterator[Notebooks]:
    application = Notebooks(env=app_env(backend))
    yield application
    application.close()


@pytest.fixture
def ledger(backend: Backend, signer: CheckpointSigner, app: Notebooks) -> Iterator[AuditLedger]:
    with AuditLedger(app_env(backend), signer, application_name=APP, batch_size=7) as found:
        yield found


# Raw database access, as someone with database credentials would tamper with it ---------------


@contextmanager
def raw(backend: Backend) -> Iterator[Any]:
    if backend.sqlite_path is not None:
        conn = sqlite3.connect(backend.sqlite_path)
        try:
            yield conn
            conn.commit()
        finally:
            conn.close()
    else:
        with psycopg.connect(POSTGRES_URL, autocommit=False) as pg:
            yield pg


def events_table(backend: Backend) -> tuple[str, str]:
    """(table, notification id column) of the app's stored events."""
    if backend.postgres_schema is None:
        return "stored_events", "rowid"
    return f"{backend.postgres_schema}.{APP.lower()}_events", "notification_id"


def ledger_table(backend: Backend, name: str) -> str:
    prefix = "" if backend.postgres_schema is None else f"{backend.postgres_schema}."
    return f"{prefix}registry_ledger_{name}"


def leaf_positions(backend: Backend) -> list[Any]:
    """(position, notification id) of every ledger leaf, in position order."""
    leaves = ledger_table(backend, "leaves")
    return run(backend, f"SELECT position, notification_id FROM {leaves} ORDER BY position")


def sql(backend: Backend, statement: str) -> str:
    return statement if backend.sqlite_path is not None else statement.replace("?", "%s")


def run(backend: Backend, statement: str, *params: Any) -> list[Any]:
    with raw(backend) as conn:
        cursor = conn.execute(sql(backend, statement), params)
        return list(cursor.fetchall()) if cursor.description else []


def event_ids(backend: Backend) -> list[int]:
    table, nid = events_table(backend)
    return [int(r[0]) for r in run(backend, f"SELECT {nid} FROM {table} ORDER BY {nid}")]


def state_of(backend: Backend, notification_id: int) -> bytes:
    table, nid = events_table(backend)
    return bytes(run(backend, f"SELECT state FROM {table} WHERE {nid} = ?", notification_id)[0][0])


def set_state(backend: Backend, notification_id: int, state: bytes) -> None:
    table, nid = events_table(backend)
    run(backend, f"UPDATE {table} SET state = ? WHERE {nid} = ?", state, notification_id)


def renumber(backend: Backend, old: int, new: int) -> None:
    table, nid = events_table(backend)
    run(backend, f"UPDATE {table} SET {nid} = ? WHERE {nid} = ?", new, old)


# Tampering, each as one function of the backend -----------------------------------------------


def change_one_byte(backend: Backend) -> None:
    target = event_ids(backend)[5]
    state = bytearray(state_of(backend, target))
    state[-3] ^= 0x01
    set_state(backend, target, bytes(state))


def delete_a_row(backend: Backend) -> None:
    table, nid = events_table(backend)
    run(backend, f"DELETE FROM {table} WHERE {nid} = ?", event_ids(backend)[7])


def swap_two_payloads(backend: Backend) -> None:
    ids = event_ids(backend)
    first, second = state_of(backend, ids[3]), state_of(backend, ids[9])
    set_state(backend, ids[3], second)
    set_state(backend, ids[9], first)


def reorder_two_rows(backend: Backend) -> None:
    ids = event_ids(backend)
    renumber(backend, ids[4], -1)
    renumber(backend, ids[10], ids[4])
    renumber(backend, -1, ids[10])


def insert_a_forged_row(backend: Backend) -> None:
    """Make room in the middle of the log and put a forged event there."""
    table, nid = events_table(backend)
    ids = event_ids(backend)
    at = ids[6]
    for old in reversed(ids[7:]):
        renumber(backend, old, old + 1)
    original = run(
        backend,
        f"SELECT originator_id, originator_version, topic, state FROM {table} WHERE {nid} = ?",
        at,
    )[0]
    forged_stream = "0" * 31 + "1" if backend.sqlite_path is not None else UUID(int=1)
    run(
        backend,
        f"INSERT INTO {table} ({nid}, originator_id, originator_version, topic, state) "
        "VALUES (?, ?, ?, ?, ?)",
        at + 1,
        forged_stream,
        1,
        original[2],
        bytes(original[3]),
    )


def truncate_the_tail_and_its_leaves(backend: Backend) -> None:
    """Delete the newest events and rewind the ledger consistently, as a careful insider would."""
    table, nid = events_table(backend)
    ids = event_ids(backend)
    keep = len(ids) - 3
    run(backend, f"DELETE FROM {table} WHERE {nid} > ?", ids[keep - 1])
    run(backend, f"DELETE FROM {ledger_table(backend, 'leaves')} WHERE position >= ?", keep)
    run(backend, f"DELETE FROM {ledger_table(backend, 'nodes')}")
    run(backend, f"DELETE FROM {ledger_table(backend, 'checkpoints')} WHERE tree_size > ?", keep)
    run(
        backend,
        f"UPDATE {ledger_table(backend, 'state')} SET tree_size = ?, last_notification_id = ?",
        keep,
        ids[keep - 1],
    )
    # Rebuild the nodes so proofs and the stored tree look healthy again.
    from security.ledger.merkle import CompactRange

    leaves = run(
        backend, f"SELECT leaf_hash FROM {ledger_table(backend, 'leaves')} ORDER BY position"
    )
    edge = CompactRange()
    for (value,) in leaves:
        for (level, idx), node in edge.append(bytes(value)):
            run(
                backend,
                f"INSERT INTO {ledger_table(backend, 'nodes')} (level, idx, hash) VALUES (?, ?, ?)",
                level,
                idx,
                node,
            )


def rewrite_a_leaf_to_match_a_changed_payload(backend: Backend) -> None:
    """Change a payload and fix up its ledger row, as someone who knows the leaf format would."""
    change_one_byte(backend)
    target = event_ids(backend)[5]
    leaves = ledger_table(backend, "leaves")
    row = run(
        backend,
        "SELECT stream_id, version, topic, prev_stream_leaf_hash, position "
        f"FROM {leaves} WHERE notification_id = ?",
        target,
    )[0]
    prev = None if row[3] is None else bytes(row[3])
    leaf = leaf_for_event(str(row[0]), int(row[1]), str(row[2]), state_of(backend, target), prev)
    run(
        backend,
        f"UPDATE {leaves} SET payload_sha256 = ?, leaf_hash = ? WHERE position = ?",
        leaf.payload_sha256,
        leaf.leaf_hash,
        int(row[4]),
    )


def rebuild_the_whole_ledger_after_a_change(backend: Backend) -> None:
    """Change a payload, wipe the ledger and integrate everything again from scratch."""
    change_one_byte(backend)
    for name in ("leaves", "nodes", "checkpoints"):
        run(backend, f"DELETE FROM {ledger_table(backend, name)}")
    run(
        backend,
        f"UPDATE {ledger_table(backend, 'state')} SET tree_size = 0, last_notification_id = 0",
    )
    with AuditLedger(app_env(backend), None, application_name=APP) as rebuilt:
        rebuilt.integrate()


TAMPERING: dict[str, tuple[Callable[[Backend], None], str]] = {  # tampering, what verify says
    "one byte of one payload changed": (change_one_byte, "payload bytes differ"),
    "a row deleted": (delete_a_row, "missing from the store"),
    "two rows' payloads swapped": (swap_two_payloads, "payload bytes differ"),
    "two rows reordered": (reorder_two_rows, "reordered or replaced"),
    "a forged row inserted": (insert_a_forged_row, "reordered or replaced"),
    "the tail truncated, ledger rewound": (
        truncate_the_tail_and_its_leaves,
        "deleted from the end",
    ),
    "a ledger row rewritten to match": (rewrite_a_leaf_to_match_a_changed_payload, "chain broken"),
    "the whole ledger rebuilt": (rebuild_the_whole_ledger_after_a_change, "does not match"),
}


# Tests ----------------------------------------------------------------------------------------


def test_every_event_becomes_a_leaf_in_notification_order(
    backend: Backend, app: Notebooks, ledger: AuditLedger
) -> None:
    write_events(app)
    assert ledger.integrate() == 24
    rows = leaf_positions(backend)
    assert [int(r[0]) for r in rows] == list(range(24))
    assert [int(r[1]) for r in rows] == event_ids(backend)
    assert ledger.integrate() == 24  # nothing new: no new leaves, no new checkpoint
    assert len(ledger.checkpoints()) == 1


def test_leaves_commit_to_the_envelope_header_and_chain_per_stream(
    backend: Backend, app: Notebooks, ledger: AuditLedger
) -> None:
    ids = write_events(app, streams=2, notes=1)
    ledger.integrate()
    first = ledger.store.find_leaf(stream_id=ids[0], version=1)
    second = ledger.store.find_leaf(stream_id=ids[0], version=2)
    assert first is not None
    assert second is not None
    assert first.leaf.prev_stream_leaf_hash is None
    assert second.leaf.prev_stream_leaf_hash == first.leaf_hash
    if HAS_ENVELOPE:
        assert first.leaf.key_id is not None
        assert first.leaf.recorded_at_us is not None
    state = state_of(backend, second.notification_id)
    recomputed = leaf_for_event(str(ids[0]), 2, second.leaf.topic, state, first.leaf_hash)
    assert recomputed == second.leaf
    assert fast_leaf_hash(str(ids[0]), 2, second.leaf.topic, state, first.leaf_hash) == (
        second.leaf_hash
    )


def test_the_untouched_store_verifies_against_its_exported_checkpoint(
    backend: Backend, app: Notebooks, ledger: AuditLedger, signer: CheckpointSigner
) -> None:
    write_events(app)
    ledger.integrate()
    exported = ledger.checkpoint().note
    seen: list[tuple[int, int]] = []
    result = verify_store(
        app_env(backend),
        exported,
        lambda done, total: seen.append((done, total)),
        public_key=signer.verifier_key(),
        application_name=APP,
    )
    assert result.ok, result.summary()
    assert result.tree_size == 24
    assert result.root_hash == ledger.root()
    assert seen[-1] == (24, 24)
    assert result.summary().startswith("ledger intact: 24 events")


def test_new_events_not_yet_integrated_are_reported_as_pending_not_as_tampering(
    backend: Backend, app: Notebooks, ledger: AuditLedger
) -> None:
    write_events(app, streams=1, notes=1)
    ledger.integrate()
    write_events(app, streams=1, notes=0)
    result = verify_store(app_env(backend), application_name=APP)
    assert result.ok
    assert result.pending == 1


@pytest.mark.parametrize("tamper", list(TAMPERING), ids=list(TAMPERING))
def test_tampering_is_detected_against_the_last_exported_checkpoint(
    backend: Backend, app: Notebooks, ledger: AuditLedger, signer: CheckpointSigner, tamper: str
) -> None:
    write_events(app)
    ledger.integrate()
    exported = ledger.checkpoint().note
    assert verify_store(
        app_env(backend), exported, public_key=signer.verifier_key(), application_name=APP
    ).ok
    damage, expected = TAMPERING[tamper]
    damage(backend)
    result = verify_store(
        app_env(backend), exported, public_key=signer.verifier_key(), application_name=APP
    )
    assert not result.ok, tamper
    assert expected in (result.problem or ""), result.summary()
    assert result.summary().startswith("ledger TAMPERED")


def test_a_restored_older_copy_of_the_database_is_detected(
    backend: Backend, app: Notebooks, ledger: AuditLedger, signer: CheckpointSigner
) -> None:
    write_events(app, notes=2)
    ledger.integrate()
    copy = backup(backend)
    write_events(app, notes=2)
    ledger.integrate()
    exported = ledger.checkpoint().note
    restore(backend, copy)
    result = verify_store(
        app_env(backend), exported, public_key=signer.verifier_key(), application_name=APP
    )
    assert not result.ok
    assert "older copy" in (result.problem or "")
    # Without an exported checkpoint the old copy is self-consistent: why auditors keep one.
    assert verify_store(app_env(backend), application_name=APP).ok


def backup(backend: Backend) -> Any:
    if backend.sqlite_path is not None:
        copy = sqlite3.connect(":memory:")
        with sqlite3.connect(backend.sqlite_path) as source:
            source.backup(copy)
        return copy
    tables = [events_table(backend)[0]] + [
        ledger_table(backend, n) for n in ("leaves", "nodes", "state", "checkpoints")
    ]
    for t in tables:
        run(backend, f"CREATE TABLE {t}_copy AS SELECT * FROM {t}")
    return tables


def restore(backend: Backend, copy: Any) -> None:
    if backend.sqlite_path is not None:
        target = sqlite3.connect(backend.sqlite_path)
        copy.backup(target)
        target.close()
        return
    for t in copy:
        run(backend, f"DELETE FROM {t}")
        run(backend, f"INSERT INTO {t} SELECT * FROM {t}_copy")


def test_an_inclusion_proof_for_an_event_verifies_offline_with_only_the_public_key(
    app: Notebooks, ledger: AuditLedger, signer: CheckpointSigner
) -> None:
    ids = write_events(app)
    ledger.integrate()
    checkpoint = ledger.checkpoint().note
    proof = ledger.inclusion_proof(stream_id=ids[2], version=3)
    check = verify_proof(signer.verifier_key(), checkpoint, to_json(proof))
    assert check.ok, check.message
    other = CheckpointSigner(Ed25519PrivateKey.generate(), "test.example/ledger")
    assert not verify_proof(other.verifier_key(), checkpoint, to_json(proof)).ok
    forged = to_json(proof).replace(proof.leaf_hash.hex(), "00" * 32)
    assert not verify_proof(signer.verifier_key(), checkpoint, forged).ok


def test_a_consistency_proof_between_two_checkpoints_verifies_offline(
    app: Notebooks, ledger: AuditLedger, signer: CheckpointSigner
) -> None:
    write_events(app, notes=1)
    ledger.integrate()
    older = ledger.checkpoint()
    write_events(app, notes=3)
    ledger.integrate()
    newer = ledger.checkpoint()
    proof = ledger.consistency_proof(older.tree_size, newer.tree_size)
    check = verify_proof(signer.verifier_key(), newer.note, to_json(proof), older.note)
    assert check.ok, check.message
    assert not verify_proof(signer.verifier_key(), older.note, to_json(proof)).ok


# Commit order on PostgreSQL: ids taken by transactions still in flight -----------------------


def raw_insert_sql(backend: Backend) -> str:
    table, _ = events_table(backend)
    return (
        f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
        "VALUES (%s, 1, 'tests:Raw', %s) RETURNING notification_id"
    )


@pytest.mark.parametrize("outcome", ["commits", "rolls back"])
def test_an_event_committed_behind_an_in_flight_lower_id_waits_for_it(
    backend: Backend, app: Notebooks, ledger: AuditLedger, outcome: str
) -> None:
    if backend.postgres_schema is None:
        pytest.skip("SQLite has one writer at a time: ids always become visible in order")
    write_events(app, streams=1, notes=1)
    assert ledger.integrate() == 2
    ledger.store.dialect.lock_timeout_ms = 200  # type: ignore[attr-defined]
    with (
        psycopg.connect(POSTGRES_URL) as slow,
        psycopg.connect(POSTGRES_URL, autocommit=True) as fast,
    ):
        # A writer that bypasses the library's table lock takes the lower id and stays open...
        low = slow.execute(raw_insert_sql(backend), (UUID(int=7), b"slow")).fetchone()
        # ...while another commits a higher id.
        high = fast.execute(raw_insert_sql(backend), (UUID(int=8), b"fast")).fetchone()
        assert low is not None
        assert high is not None
        assert low[0] < high[0]
        assert ledger.integrate() == 2, "must not integrate past an id still in flight"
        if outcome == "commits":
            slow.commit()
        else:
            slow.rollback()
    expected = [*event_ids(backend)]
    assert ledger.integrate() == len(expected)
    rows = leaf_positions(backend)
    assert [int(r[0]) for r in rows] == list(range(len(expected)))
    assert [int(r[1]) for r in rows] == expected
    assert (low[0] in expected) == (outcome == "commits")
    assert verify_store(app_env(backend), application_name=APP).ok


def test_integrating_while_the_application_writes_keeps_every_event_in_order(
    backend: Backend, app: Notebooks, ledger: AuditLedger
) -> None:
    import threading

    done = threading.Event()

    def writer() -> None:
        write_events(app, streams=3, notes=8)
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    while not done.is_set():
        ledger.integrate()
    thread.join()
    assert ledger.integrate() == 27
    assert verify_store(app_env(backend), application_name=APP).ok


def test_proofs_name_events_by_stream_and_version_or_notification_id(
    app: Notebooks, ledger: AuditLedger, signer: CheckpointSigner
) -> None:
    ids = write_events(app, streams=2, notes=2)
    ledger.integrate()
    by_stream = ledger.inclusion_proof(stream_id=ids[1], version=2)
    assert by_stream.notification_id is not None
    by_id = ledger.inclusion_proof(notification_id=by_stream.notification_id)
    assert by_id == by_stream
    assert to_json(by_id).count(str(ids[1])) == 1
    with pytest.raises(EventNotInLedgerError):
        ledger.inclusion_proof(stream_id=ids[1], version=99)
    with pytest.raises(ProofError):
        ledger.consistency_proof(2, ledger.tree_size() + 1)
    assert ledger.consistency_proof(0).path == ()


def test_an_event_written_after_the_checkpoint_is_proved_once_a_new_checkpoint_covers_it(
    app: Notebooks, ledger: AuditLedger, signer: CheckpointSigner
) -> None:
    write_events(app, streams=1, notes=0)
    ledger.integrate()
    ids = write_events(app, streams=1, notes=0)
    ledger.integrate()
    proof = ledger.inclusion_proof(stream_id=ids[0], version=1)
    latest = ledger.latest_checkpoint()
    assert latest is not None
    assert proof.tree_size == latest.tree_size == 2
    assert verify_proof(signer.verifier_key(), latest.note, to_json(proof)).ok


# verify's fast check: ranges checked on their own, a helper process, stitched in order ---------


def verify_sequentially(backend: Backend, *args: Any, **kwargs: Any) -> Any:
    """verify_store with the fast check switched off: the sequential walk decides alone."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(verify_module, "_check_ranges", lambda *_args, **_kwargs: False)
        return verify_store(app_env(backend), *args, application_name=APP, **kwargs)


def integrate_in_steps(app: Notebooks, ledger: AuditLedger) -> None:
    """29 events over 4 streams, integrated in 4 rounds: checkpoints at odd sizes."""
    ids = write_events(app, streams=4, notes=1)  # 8
    ledger.integrate()
    for book_id in ids[:3]:
        found: Notebook = app.repository.get(book_id)
        found.note("more")
        app.save(found)  # 11
    ledger.integrate()
    write_events(app, streams=2, notes=6)  # 25
    ledger.integrate()
    write_events(app, streams=1, notes=3)  # 29
    ledger.integrate()


@pytest.mark.parametrize("chunk", [1, 4, 8, 4096])
@pytest.mark.parametrize("parallel", [False, True], ids=["one process", "with a helper"])
def test_ranges_checked_apart_and_stitched_give_the_tree_of_one_walk(
    backend: Backend,
    app: Notebooks,
    ledger: AuditLedger,
    signer: CheckpointSigner,
    monkeypatch: pytest.MonkeyPatch,
    chunk: int,
    parallel: bool,
) -> None:
    integrate_in_steps(app, ledger)
    checkpoints = [c.tree_size for c in ledger.checkpoints()]
    assert checkpoints == [8, 11, 25, 29]
    exported = ledger.checkpoints()[1].note  # an older exported checkpoint, at size 11
    monkeypatch.setattr(verify_module, "CHUNK", chunk)

    def no_walk(*_args: Any, **_kwargs: Any) -> int:
        raise AssertionError("the fast check found a mismatch in an untouched store")

    monkeypatch.setattr(verify_module, "_walk", no_walk)
    seen: list[tuple[int, int]] = []
    result = verify_store(
        app_env(backend),
        exported,
        lambda done, total: seen.append((done, total)),
        public_key=signer.verifier_key(),
        application_name=APP,
        parallel=parallel,
    )
    assert result.ok, result.summary()
    assert (result.tree_size, result.root_hash) == (29, ledger.root())
    assert seen[-1] == (29, 29)


@pytest.mark.parametrize("tamper", list(TAMPERING), ids=list(TAMPERING))
@pytest.mark.parametrize("parallel", [False, True], ids=["one process", "with a helper"])
def test_the_fast_check_reports_tampering_exactly_as_the_sequential_walk(
    backend: Backend,
    app: Notebooks,
    ledger: AuditLedger,
    signer: CheckpointSigner,
    monkeypatch: pytest.MonkeyPatch,
    tamper: str,
    parallel: bool,
) -> None:
    write_events(app)
    ledger.integrate()
    exported = ledger.checkpoint().note
    damage, expected = TAMPERING[tamper]
    damage(backend)
    monkeypatch.setattr(verify_module, "CHUNK", 4)  # the damage lies inside and across ranges
    key = signer.verifier_key()
    result = verify_store(
        app_env(backend), exported, public_key=key, application_name=APP, parallel=parallel
    )
    reference = verify_sequentially(backend, exported, public_key=key)
    assert not result.ok
    assert expected in (result.problem or ""), result.summary()
    assert result == reference


def test_a_ledger_row_rewritten_as_the_last_of_its_stream_in_a_range_breaks_the_chain(
    backend: Backend, app: Notebooks, ledger: AuditLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rewritten leaf matches its event; the stream's next leaf, in the next range, claims
    the old hash: only the stitching between ranges can see it."""
    write_events(app, streams=2, notes=3)  # streams alternate: positions 0 2 4 6 and 1 3 5 7
    ledger.integrate()
    monkeypatch.setattr(verify_module, "CHUNK", 4)
    ids = event_ids(backend)
    target = ids[2]  # position 2: stream 0's last leaf in range [0, 4), its next is at 4
    change_state_and_fix_its_leaf(backend, target)
    result = verify_store(app_env(backend), application_name=APP)
    assert not result.ok
    assert "chain broken" in (result.problem or ""), result.summary()
    assert result.bad_position == 4
    assert result == verify_sequentially(backend)


def change_state_and_fix_its_leaf(backend: Backend, notification_id: int) -> None:
    state = bytearray(state_of(backend, notification_id))
    state[-3] ^= 0x01
    set_state(backend, notification_id, bytes(state))
    leaves = ledger_table(backend, "leaves")
    row = run(
        backend,
        "SELECT stream_id, version, topic, prev_stream_leaf_hash, position "
        f"FROM {leaves} WHERE notification_id = ?",
        notification_id,
    )[0]
    prev = None if row[3] is None else bytes(row[3])
    leaf = leaf_for_event(
        str(row[0]), int(row[1]), str(row[2]), state_of(backend, notification_id), prev
    )
    run(
        backend,
        f"UPDATE {leaves} SET payload_sha256 = ?, leaf_hash = ? WHERE position = ?",
        leaf.payload_sha256,
        leaf.leaf_hash,
        int(row[4]),
    )


def test_a_state_row_rewound_behind_its_leaves_is_reported(
    backend: Backend, app: Notebooks, ledger: AuditLedger
) -> None:
    write_events(app)
    ledger.integrate()
    ids = event_ids(backend)
    run(
        backend,
        f"UPDATE {ledger_table(backend, 'state')} SET tree_size = ?, last_notification_id = ?",
        20,
        ids[19],
    )
    result = verify_store(app_env(backend), application_name=APP)
    assert not result.ok
    assert result == verify_sequentially(backend)


@pytest.mark.parametrize("when", ["before", "after"])
def test_an_integration_while_verify_reads_is_not_mistaken_for_tampering(
    backend: Backend,
    app: Notebooks,
    ledger: AuditLedger,
    signer: CheckpointSigner,
    monkeypatch: pytest.MonkeyPatch,
    when: str,
) -> None:
    """A verify beside a running integrator: new leaves and a new checkpoint are committed just
    before or just after verify reads the tree size."""
    write_events(app, notes=2)
    ledger.integrate()
    write_events(app, notes=2)  # not integrated yet
    read_state = LedgerStore.integration_state
    integrated: list[int] = []

    def integrating(store: LedgerStore, cursor: Any = None) -> tuple[int, int]:
        if store is ledger.store or integrated:
            return read_state(store, cursor)
        if when == "before":
            integrated.append(ledger.integrate())
            return read_state(store, cursor)
        found = read_state(store, cursor)
        integrated.append(ledger.integrate())
        return found

    monkeypatch.setattr(LedgerStore, "integration_state", integrating)
    result = verify_store(app_env(backend), application_name=APP)
    assert integrated == [24]
    assert result.ok, result.summary()
    assert result.tree_size == (24 if when == "before" else 12)
    assert result.pending == (0 if when == "before" else 12)


def test_the_helper_process_checks_ranges_like_this_process(
    backend: Backend, app: Notebooks, ledger: AuditLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend.sqlite_path is None:
        pytest.skip("the helper reads SQLite files")
    integrate_in_steps(app, ledger)
    monkeypatch.setattr(verify_module, "CHUNK", 4)
    store = ledger.store
    target = store.sqlite_file()
    assert target is not None
    work = verify_module._Ranges(29, {11, 25, 29})
    helper = verify_module._Helper(target, work)  # takes every range: nobody else does
    helper.thread.join()  # it stops when there is nothing left to take
    helper.finish()
    assert work.taken == len(work.ranges)
    expected = [check_range(store, *r, c) for r, c in zip(work.ranges, work.cuts, strict=True)]
    assert work.results == expected


def test_a_helper_that_fails_leaves_its_ranges_to_this_process(
    backend: Backend, app: Notebooks, ledger: AuditLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend.sqlite_path is None:
        pytest.skip("the helper reads SQLite files")
    integrate_in_steps(app, ledger)
    monkeypatch.setattr(verify_module, "CHUNK", 4)
    work = verify_module._Ranges(29, set())
    helper = verify_module._Helper((str(backend.sqlite_path), "no_such_table", "x"), work)
    helper.thread.join()
    helper.finish()
    assert work.taken == 2  # it stops at the first error, leaving the rest
    assert all(found is verify_module._TODO for found in work.results)
    # And through verify_store: the same tree, checked here instead.
    real = LedgerStore.sqlite_file
    monkeypatch.setattr(
        LedgerStore, "sqlite_file", lambda self: (*(real(self) or ("", "", ""))[:2], "nothing")
    )
    result = verify_store(app_env(backend), application_name=APP, parallel=True)
    assert result.ok, result.summary()
    assert result.root_hash == ledger.root()
