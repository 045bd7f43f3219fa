"""Key management: rotation, backup, and crypto-shredding a person, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from domain.personal_data import PersonalData
from security.keys import (
    KeyStore,
    MasterKeyError,
    PersonKeyShredder,
    master_key_id,
    open_key_store,
    release_key_store,
)
from security.keys.postgres import PostgresKeyStore
from security.keys.sqlite import SQLiteKeyStore
from tests.backends import Backend
from tests.security.envelope_fixtures import (
    ContactCards,
    close_contact_cards,
    raw_connection,
    raw_storage_bytes,
    stored_state,
)

close_applications = pytest.fixture(autouse=True)(close_contact_cards)

REPO = Path(__file__).resolve().parents[2]


def person(name: str) -> PersonalData:
    return PersonalData(uuid4(), name, "focal point", f"{name.split()[0].lower()}@example.org")


def keys_of(app: ContactCards) -> KeyStore:
    store: KeyStore = app.mapper.envelope.keys  # type: ignore[attr-defined]
    return store


def with_master(backend: Backend, master: bytes) -> dict[str, str]:
    env = backend.env()
    env["REGISTRY_MASTER_KEY"] = base64.b64encode(master).decode()
    return env


def history(app: ContactCards, card_id: UUID) -> list[list[str]]:
    card = app.card(card_id)
    return [app.card(card_id, version=v).notes for v in range(1, card.version + 1)]


def test_rotation_rewraps_keys_and_the_whole_history_reads_with_only_the_new_key(
    backend: Backend,
) -> None:
    app = ContactCards(env=backend.env())
    alice = person("Alice Quartermaine")
    card_id = app.open_card(alice, "summary")
    for n in range(3):
        app.add_note(card_id, f"note {n}")
    app.take_snapshot(card_id, version=2)
    before = history(app, card_id)
    stored_before = [stored_state(backend, card_id, v) for v in range(1, 5)]
    old_wrapped = [r.wrapped for r in keys_of(app).all_records()]

    new_master = secrets.token_bytes(32)
    rewrapped = keys_of(app).rotate(backend.master_key, new_master)

    assert rewrapped == 2  # the stream's data key and Alice's key
    assert [stored_state(backend, card_id, v) for v in range(1, 5)] == stored_before
    assert {r.master_key_id for r in keys_of(app).all_records()} == {master_key_id(new_master)}
    rotated = ContactCards(env=with_master(backend, new_master))
    assert history(rotated, card_id) == before
    assert rotated.card(card_id).contact == alice
    raw = raw_storage_bytes(backend)
    assert not any(w is not None and w in raw for w in old_wrapped)
    with pytest.raises(MasterKeyError, match="REGISTRY_MASTER_KEY"):
        ContactCards(env=backend.env()).card(card_id)


def test_rotation_can_be_run_again_after_it_finished(backend: Backend) -> None:
    app = ContactCards(env=backend.env())
    app.open_card(person("Alice Quartermaine"), "summary")
    new_master = secrets.token_bytes(32)
    keys_of(app).rotate(backend.master_key, new_master)
    assert keys_of(app).rotate(backend.master_key, new_master) == 0


def test_export_holds_only_wrapped_keys_and_import_restores_them(
    backend: Backend, tmp_path: Path
) -> None:
    app = ContactCards(env=backend.env())
    card_id = app.open_card(person("Alice Quartermaine"), "summary")
    app.add_note(card_id, "kept")
    store = keys_of(app)
    secret = store.data_key_for_stream(card_id).secret
    assert secret is not None
    backup = tmp_path / "keys.json"

    assert store.export_keys(backup) == 2
    text = backup.read_text()
    document = json.loads(text)
    assert document["master_key_id"] == master_key_id(backend.master_key)
    assert secret.hex() not in text
    assert base64.b64encode(secret).decode() not in text
    assert backup.stat().st_mode & 0o077 == 0

    with raw_connection(backend) as conn:
        prefix = f"{backend.postgres_schema}." if backend.postgres_schema else ""
        conn.execute(f"DELETE FROM {prefix}registry_keys")
    report = open_key_store(backend.env()).import_keys(backup)
    assert (report.imported, report.skipped) == (2, 0)
    assert open_key_store(backend.env()).import_keys(backup).skipped == 2

    fresh = ContactCards(env=with_master(backend, backend.master_key))
    fresh_store = keys_of(fresh)
    fresh_store._streams.clear()  # forget the process cache: read the imported rows
    assert fresh.card(card_id).notes == ["kept"]


def test_import_refuses_keys_wrapped_under_another_master_key(
    backend: Backend, tmp_path: Path
) -> None:
    app = ContactCards(env=backend.env())
    app.open_card(person("Alice Quartermaine"), "summary")
    backup = tmp_path / "keys.json"
    keys_of(app).export_keys(backup)
    other = open_key_store(with_master(backend, secrets.token_bytes(32)))
    with pytest.raises(MasterKeyError, match="REGISTRY_MASTER_KEY"):
        other.import_keys(backup)


def test_erasing_a_person_shows_their_data_as_erased_everywhere_and_leaves_no_copy(
    backend: Backend,
) -> None:
    app = ContactCards(env=backend.env())
    alice, bob = person("Alice Quartermaine"), person("Bob Okello")
    card_id = app.open_card(alice, "Women's rights monitoring")
    app.add_note(card_id, "first")
    app.take_snapshot(card_id)
    app.add_note(card_id, "second")
    other_card = app.open_card(bob, "Radio programme")
    assert app.card(card_id).contact == alice
    alice_record = next(r for r in keys_of(app).all_records() if r.subject == str(alice.person_id))
    assert alice_record.wrapped is not None

    PersonKeyShredder(keys_of(app)).destroy(alice.person_id, reason="request of the person")

    erased = PersonalData.erased_for(alice.person_id)
    assert app.card(card_id).contact == erased  # from the snapshot, then one event
    assert app.card(card_id, version=1).contact == erased
    assert app.card(card_id).notes == ["first", "second"]  # the record itself stays readable
    assert app.card(other_card).contact == bob
    fresh = ContactCards(env=backend.env())
    assert fresh.card(card_id, version=2).contact == erased

    after = next(r for r in keys_of(app).all_records() if r.key_id == alice_record.key_id)
    assert after.wrapped is None
    assert after.destroyed_at is not None
    assert after.destroyed_reason == "request of the person"
    raw = raw_storage_bytes(backend)
    assert alice_record.wrapped not in raw
    assert b"Quartermaine" not in raw
    assert b"alice@example.org" not in raw


def test_a_snapshot_taken_after_erasure_holds_the_erased_value(backend: Backend) -> None:
    app = ContactCards(env=backend.env())
    alice = person("Alice Quartermaine")
    card_id = app.open_card(alice, "summary")
    keys_of(app).destroy_person_key(alice.person_id, "request of the person")
    app.take_snapshot(card_id)
    assert ContactCards(env=backend.env()).card(card_id).contact.erased


def test_data_about_an_erased_person_is_not_stored_again(backend: Backend) -> None:
    app = ContactCards(env=backend.env())
    alice = person("Alice Quartermaine")
    keys_of(app).destroy_person_key(alice.person_id, "request of the person")
    card_id = app.open_card(alice, "summary")
    assert app.card(card_id).contact == PersonalData.erased_for(alice.person_id)
    assert b"Quartermaine" not in raw_storage_bytes(backend)


def test_another_process_destroying_a_key_is_noticed_despite_the_cache(backend: Backend) -> None:
    app = ContactCards(env=backend.env())
    alice = person("Alice Quartermaine")
    card_id = app.open_card(alice, "summary")
    assert app.card(card_id).contact == alice  # Alice's key is now cached in this process

    script = (
        "import json, sys, uuid\n"
        "from security.keys import open_key_store\n"
        "env = json.loads(sys.argv[1])\n"
        "open_key_store(env).destroy_person_key(uuid.UUID(sys.argv[2]), 'other process')\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, json.dumps(backend.env()), str(alice.person_id)],
        check=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=60,
    )

    assert app.card(card_id).contact == PersonalData.erased_for(alice.person_id)


def test_concurrent_processes_agree_on_one_key_per_stream(backend: Backend) -> None:
    open_key_store(backend.env())  # creates the tables
    env = backend.env()

    def separate_store() -> KeyStore:
        if backend.sqlite_path is not None:
            return SQLiteKeyStore(backend.master_key, str(backend.sqlite_path))
        return PostgresKeyStore(
            backend.master_key,
            {
                "dbname": env["POSTGRES_DBNAME"],
                "host": env["POSTGRES_HOST"],
                "port": env["POSTGRES_PORT"],
                "user": env["POSTGRES_USER"],
            },
            env["POSTGRES_SCHEMA"],
        )

    stores = [separate_store() for _ in range(4)]
    stream_ids = [uuid4() for _ in range(20)]
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(
                pool.map(lambda s: [s.data_key_for_stream(i).key_id for i in stream_ids], stores)
            )
    finally:
        for store in stores:
            store.close()
    assert all(result == results[0] for result in results)


def test_prefetched_stream_keys_are_served_without_a_query_each(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = open_key_store(backend.env())
    streams = [writer.data_key_for_stream(uuid4()) for _ in range(3)]
    person_key = writer.person_key(uuid4())
    release_key_store(backend.env())
    reader = open_key_store(backend.env())
    try:
        queries: list[str] = []
        real = KeyStore._select_one

        def counted(self: KeyStore, where: str, params: tuple[object, ...]) -> object:
            queries.append(where)
            return real(self, where, params)

        monkeypatch.setattr(KeyStore, "_select_one", counted)
        reader.prefetch_stream_keys([k.key_id for k in streams] + [person_key.key_id, uuid4()])
        assert [reader.key_by_id(k.key_id) for k in streams] == streams
        assert queries == []
        assert reader.key_by_id(person_key.key_id) == person_key  # not prefetched: one query
        assert len(queries) == 1
    finally:
        release_key_store(backend.env())


def test_a_forked_child_opens_its_own_key_store(backend: Backend) -> None:
    store = open_key_store(backend.env())
    stream = store.data_key_for_stream(uuid4())
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: must not reuse the parent's connection
        try:
            own = open_key_store(backend.env())
            found = own.key_by_id(stream.key_id)
            os.write(write, b"new" if own is not store and found == stream else b"same")
        finally:
            os._exit(0)
    os.close(write)
    assert os.read(read, 16) == b"new"
    os.close(read)
    os.waitpid(pid, 0)
    assert store.key_by_id(stream.key_id) == stream  # the parent's connection still works
