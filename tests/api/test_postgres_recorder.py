"""The PostgreSQL event recorder that sends four binary arrays keeps the library's contract.

The library's own ``ApplicationRecorderTestCase`` runs against ``PostgresEventRecorder``
(inserts, conflicts, notification ids in order and without gaps, concurrent writers), and what
it writes reads back the same through the library's own recorder.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from uuid import uuid4

import pytest
from eventsourcing.persistence import InfrastructureFactory, IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.tests.persistence import ApplicationRecorderTestCase
from eventsourcing.utils import Environment

from api.bootstrap import storage_env
from api.postgres_recorder import PostgresEventRecorder
from api.runtime import build_registry
from domain.actors import RECORDER, Actor, acting_as
from domain.application import PartnershipRegistry
from tests.backends import Backend, postgres_backend

pytestmark = pytest.mark.postgres


def _recorder(env: dict[str, str], name: str = "contract") -> PostgresApplicationRecorder:
    factory = InfrastructureFactory.construct(Environment(name=name, env=env))
    recorder = factory.application_recorder()
    assert isinstance(recorder, PostgresApplicationRecorder)
    return recorder


class TestPostgresEventRecorderContract(ApplicationRecorderTestCase[PostgresEventRecorder]):
    def setUp(self) -> None:
        self._stack = ExitStack()
        self.backend: Backend = self._stack.enter_context(postgres_backend())
        super().setUp()

    def tearDown(self) -> None:
        super().tearDown()
        self._stack.close()

    def create_recorder(self) -> PostgresEventRecorder:
        recorder = _recorder(storage_env(self.backend.database_url))
        assert isinstance(recorder, PostgresEventRecorder)
        self._stack.callback(recorder.datastore.close)
        return recorder


def test_rows_written_read_back_the_same_through_the_library_recorder() -> None:
    with postgres_backend() as backend:
        env = storage_env(backend.database_url)
        ours = _recorder(env, "rows")
        library_env = {k: v for k, v in env.items() if k != "APPLICATION_RECORDER_TOPIC"}
        library = _recorder(library_env, "rows")
        try:
            assert type(ours) is PostgresEventRecorder
            assert type(library) is PostgresApplicationRecorder
            stream = uuid4()
            written = [
                StoredEvent(stream, 1, "topic.a:A", b""),
                StoredEvent(stream, 2, 'topic "quoted", (b)\\c é', bytes(range(256)) * 40),
                StoredEvent(uuid4(), 7, "topic.b:B", b"\x00\\x00{,}\"'"),
            ]
            ids = ours.insert_events(written)
            assert ids is not None
            assert len(ids) == 3
            assert ids == sorted(ids)
            read = library.select_notifications(start=None, limit=10)
            assert [n.id for n in read] == ids
            assert [(n.originator_id, n.originator_version, n.topic, n.state) for n in read] == [
                (e.originator_id, e.originator_version, e.topic, e.state) for e in written
            ]
            with pytest.raises(IntegrityError):  # a version taken: nothing of the batch lands
                ours.insert_events([StoredEvent(uuid4(), 1, "t", b"x"), written[0]])
            assert len(library.select_notifications(start=None, limit=10)) == 3
        finally:
            ours.datastore.close()
            library.datastore.close()


def test_the_registry_on_postgres_writes_through_it() -> None:
    with postgres_backend() as backend:
        registry: PartnershipRegistry = build_registry(backend.settings())
        try:
            assert type(registry.recorder) is PostgresEventRecorder
            with acting_as(Actor("recorder-1", RECORDER)):
                partner_id = registry.register_partner(
                    "Women's Forum", "national NGO", "national"
                ).id
            assert registry.get_partner(partner_id).profile.name == "Women's Forum"
        finally:
            registry.close()


del ApplicationRecorderTestCase


def test_processes_opening_the_store_together_do_not_collide() -> None:
    """Each opening runs the library's CREATE ... IF NOT EXISTS and CREATE OR REPLACE FUNCTION;
    without the advisory lock, about one in three of these failed with "tuple concurrently
    updated" (an API process or `registry verify` starting beside another)."""
    with postgres_backend() as backend:
        env = storage_env(backend.database_url)
        _recorder(env).datastore.close()
        failures: list[BaseException] = []

        def open_store() -> None:
            try:
                _recorder(env, "opening").datastore.close()
            except BaseException as error:
                failures.append(error)

        for _ in range(10):
            threads = [threading.Thread(target=open_store) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert failures == []
