"""Rows of append-only tables and touched records are gathered in any order, anywhere.

A rebuild's reader process runs the handlers registered ``appends_only`` and the writer adds
what they gathered to its batch: the views come out as if the writer had run them itself.
"""

from __future__ import annotations

import os
import secrets

import pytest
from eventsourcing.persistence import Tracking

from domain.application import PartnershipRegistry
from projections.batch import Appends, Fact
from projections.crypto import ViewCipher
from projections.handlers import HANDLERS
from projections.projection import RegistryProjection
from projections.replay import Replay
from projections.store import ViewStore
from tests.projections.test_rebuild import contents, record_every_kind_of_event


def tracking(registry: PartnershipRegistry) -> Tracking:
    return Tracking(registry.name, registry.max_position())


def fact(record_id: str, version: int, at: str) -> Fact:
    return Fact(record_id, version, "R", "E", version, "a", "r", "", at, "", "", "day", False)


def test_a_touch_keeps_the_latest_version_whatever_the_order() -> None:
    appends = Appends(ViewCipher(secrets.token_bytes(32)))
    for version in (2, 5, 3):
        appends.touch("view_partners", "partner_id", fact("p", version, f"t{version}"))
    _, touches = appends.take()
    assert touches == {("view_partners", "partner_id"): {"p": (5, "t5")}}


def test_what_another_batch_gathered_is_merged_by_latest_version() -> None:
    cipher = ViewCipher(secrets.token_bytes(32))
    here, there = Appends(cipher), Appends(cipher)
    here.touch("view_partners", "partner_id", fact("p", 4, "t4"))
    there.touch("view_partners", "partner_id", fact("p", 3, "t3"))
    there.touch("view_partners", "partner_id", fact("q", 1, "t1"))
    there.append_values("view_partner_contacts", ("partner_id", "person_id"), ("p", "x"))
    here.absorb(there.take())
    rows, touches = here.take()
    assert touches == {("view_partners", "partner_id"): {"p": (4, "t4"), "q": (1, "t1")}}
    assert rows == [(rows[0][0], [("p", "x")])]
    assert rows[0][0].startswith("INSERT INTO view_partner_contacts")
    assert here.take() == ([], {})  # taken: empty again


def test_rows_gathered_are_sealed_when_taken_and_open_where_they_land() -> None:
    cipher = ViewCipher(secrets.token_bytes(32))
    appends = Appends(cipher)
    row = fact("r", 1, "2020-01-01T00:00:00.000000+00:00")._replace(reason="why")
    appends.append_values("view_history", Fact._fields[:12], row[:12])
    [(_, [stored])] = appends.take()[0]
    assert stored[7] != "why"
    assert cipher.open("view_history", "reason", "r\x1f1", stored[7]) == "why"


def test_a_forked_child_draws_nonces_of_its_own() -> None:
    cipher = ViewCipher(secrets.token_bytes(32))
    cipher.seal("view_history", "reason", "r", "x")  # fills the pool in this process
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        sealed = cipher.seal("view_history", "reason", "r", "x") or b""
        os.write(write, sealed[1:13])
        os._exit(0)
    os.close(write)
    child_nonce = os.read(read, 12)
    os.close(read)
    os.waitpid(pid, 0)
    parent = cipher.seal("view_history", "reason", "r", "x") or b""
    assert len(child_nonce) == 12
    assert child_nonce != parent[1:13]  # the parent's next nonce was not used by the child


@pytest.mark.parametrize(
    ("share", "appends_share"), [(0.0, 0.0), (0.5, 0.0), (0.0, 0.5), (0.5, 1.0)]
)
def test_items_sent_with_their_appended_rows_give_the_views_of_a_batch_here(
    registry: PartnershipRegistry,
    store: ViewStore,
    projection: RegistryProjection,
    share: float,
    appends_share: float,
) -> None:
    record_every_kind_of_event(registry)
    stored = [n for page in Replay(registry).pages(1000) for n in page]
    reader, writer = Replay(registry, HANDLERS), Replay(registry, HANDLERS)
    gathered = Appends(store.cipher)
    items = reader.items_to_send(stored, share, gathered, appends_share)
    sent = reader.encode(items, gathered.take())
    appends = Appends(store.cipher)
    items = writer.decode(sent, appends)
    assert len(items) < len(stored)  # events only appending handlers read were not sent
    with store.writing() as cursor:
        store.create_tables(cursor)
        projection.write_facts(cursor, items, tracking(registry), appends.take())
    split = contents(store)
    with store.writing() as cursor:
        store.drop_tables(cursor)
        store.create_tables(cursor)
        projection.write_facts(cursor, Replay(registry).items(stored), tracking(registry))
    assert contents(store) == split


def test_items_sent_without_appended_rows_are_appended_on_arrival(
    registry: PartnershipRegistry, store: ViewStore
) -> None:
    record_every_kind_of_event(registry)
    stored = [n for page in Replay(registry).pages(1000) for n in page]
    sender = Replay(registry, HANDLERS)
    sent = sender.encode(sender.items_to_send(stored, 0.0))
    appends = Appends(store.cipher)
    items = Replay(registry, HANDLERS).decode(sent, appends)
    # Only events with other handlers than appends-only ones are left to apply.
    assert [type(event) for event, _ in items] == [
        type(event) for event, _ in Replay(registry).items(stored) if HANDLERS.others(type(event))
    ]
    rows, touches = appends.take()
    history = [found for sql, found in rows if "view_history" in sql]
    assert sum(map(len, history)) == len(stored)
    assert touches
    gathered = Appends(store.cipher)
    with_rows = sender.encode(sender.items_to_send(stored, 0.0, gathered), gathered.take())
    with pytest.raises(ValueError, match="give decode an Appends"):
        sender.decode(with_rows)  # the rows it carries would be lost
