"""A rebuild reads the log in a second process where it can; the views come out the same.

The reader is forked, so only from a process without other threads: PostgreSQL's connection
pool runs threads, so there the reader runs when the rebuild opens the registry itself.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from domain.actors import HUMAN_RIGHTS_OFFICER, Actor, acting_as
from domain.application import PartnershipRegistry
from projections.reader import LogReader
from projections.rebuild import rebuild_all
from projections.replay import Replay
from projections.store import ViewStore
from security.envelope import IntegrityError
from tests.backends import Backend
from tests.projections.test_rebuild import contents, record_every_kind_of_event


@pytest.fixture
def recorded(backend: Backend) -> Backend:
    """A store with a little of everything recorded, and no registry left open."""
    app = PartnershipRegistry(backend.env())
    try:
        record_every_kind_of_event(app)
        for n in range(3):
            e = app.record_engagement("roundtable", f"Talks {n}", "2021")
            app.add_follow_up(e.id, "Write the minutes", "Secretariat")
    finally:
        app.close()
    return backend


@pytest.fixture
def pages_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Last notification id of each page the reader process delivered."""
    delivered: list[int] = []
    real = LogReader.pages

    def counted(self: LogReader) -> Iterator[tuple[int, int, bytes]]:
        for page in real(self):
            delivered.append(page[0])
            yield page

    monkeypatch.setattr(LogReader, "pages", counted)
    return delivered


def views(backend: Backend) -> dict[str, Any]:
    app = PartnershipRegistry(backend.env())
    try:
        return contents(ViewStore.for_application(app))
    finally:
        app.close()


def test_the_reader_process_gives_the_views_a_rebuild_here_gives(
    recorded: Backend, pages_read: list[int]
) -> None:
    with acting_as(Actor("hro-1", HUMAN_RIGHTS_OFFICER)):
        done = rebuild_all(recorded.env(), batch_size=4, parallel=False)
        assert pages_read == []
        here = views(recorded)
        assert rebuild_all(recorded.env(), batch_size=4) == done
    sizes = [last - before for before, last in zip([0, *pages_read], pages_read, strict=False)]
    assert pages_read[-1] == done
    # The first page, and those of the last two pages' worth, are small (the writer starts
    # sooner and has less left after the reader is done); the others are whole.
    assert sizes[0] == 1
    assert sizes[-5:] == [1] * 5
    assert set(sizes[1:-8]) == {4}
    assert views(recorded) == here


def test_a_failing_reader_is_taken_over_from_its_last_page(
    recorded: Backend,
    pages_read: list[int],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    done = rebuild_all(recorded.env(), batch_size=4, parallel=False)
    here = views(recorded)
    real = Replay.encode
    sent: list[int] = []

    def fails_third(self: Replay, items: Any, appended: Any) -> bytes:  # in the reader process
        sent.append(1)
        if len(sent) == 3:
            raise RuntimeError("reader broke")
        return real(self, items, appended)

    monkeypatch.setattr(Replay, "encode", fails_third)
    with caplog.at_level(logging.WARNING, "projections.rebuild"):
        assert rebuild_all(recorded.env(), batch_size=4) == done
    assert pages_read == [1, 5]  # a small first page, then a whole one
    assert "reading on in this process after notification 5" in caplog.text
    assert "reader broke" in caplog.text
    assert views(recorded) == here


def test_an_altered_event_stops_the_rebuild_as_without_the_reader(
    recorded: Backend, pages_read: list[int]
) -> None:
    app = PartnershipRegistry(recorded.env())
    try:
        stored = app.recorder.select_notifications(start=6, limit=1)[0]
        altered = bytearray(stored.state)
        altered[-1] ^= 1
        recorder: Any = app.recorder
        factory: Any = app.factory
        table = recorder.events_table_name
        stream: Any = stored.originator_id
        if recorded.postgres_schema:
            table, mark = f"{recorded.postgres_schema}.{table}", "%s"
        else:
            stream, mark = stream.hex, "?"
        with factory.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"UPDATE {table} SET state = {mark}"
                f" WHERE originator_id = {mark} AND originator_version = {mark}",
                (bytes(altered), stream, stored.originator_version),
            )
    finally:
        app.close()
    with pytest.raises(IntegrityError, match="failed its integrity check"):
        rebuild_all(recorded.env(), batch_size=4)
    assert pages_read == [1, 5]  # the pages before the altered event (6th) only
