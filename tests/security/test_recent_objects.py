"""Objects the envelope mapper hands back without decoding: only ones nothing can change.

A command reloads the record it just changed; the mapper returns the events and snapshots this
process sealed instead of decrypting and decoding them again. These tests show that a reader
never shares anything mutable with another reader, and that personal data is always decoded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Snapshot

from domain.actors import RECORDER, Actor, acting_as
from domain.application import PartnershipRegistry
from domain.engagement import FollowUp
from security.envelope import _KNOWN_IMMUTABLE, EnvelopeMapper, _immutable, _sharing
from security.keys import PersonKeyShredder, open_key_store
from tests.backends import Backend

RECORDER_ACTOR = Actor("recorder-1", RECORDER)


@pytest.fixture
def app(backend: Backend) -> Iterator[PartnershipRegistry]:
    env = {**backend.env(), "REGISTRY_SNAPSHOT_INTERVAL": "3"}
    registry = PartnershipRegistry(env=env, person_keys=PersonKeyShredder(open_key_store(env)))
    try:
        yield registry
    finally:
        registry.close()


def test_records_reloaded_from_kept_snapshots_share_no_collection(
    app: PartnershipRegistry, backend: Backend
) -> None:
    with acting_as(RECORDER_ACTOR):
        engagement_id = app.record_engagement("consultation", "Talks", "2024-03-14").id
        for n in range(5):  # snapshot at version 3 and 6, then one event after it
            app.add_follow_up(engagement_id, f"Action {n}", "Civil Affairs")
    first = app.get_engagement(engagement_id)
    second = app.get_engagement(engagement_id)
    assert first.follow_ups == second.follow_ups
    assert first.follow_ups is not second.follow_ups
    # A command that changes one loaded copy in place (without saving) leaves the others alone.
    with acting_as(RECORDER_ACTOR):
        first.add_follow_up(FollowUp(uuid4(), "Unsaved action", "Civil Affairs"))
    third = app.get_engagement(engagement_id)
    assert len(third.follow_ups) == 5 == len(second.follow_ups)
    # And what this process hands back equals what another process decodes from storage.
    other = PartnershipRegistry(env={**backend.env(), "REGISTRY_SNAPSHOT_INTERVAL": "3"})
    try:
        decoded = other.get_engagement(engagement_id)
    finally:
        other.close()
    assert vars(decoded) | {"_pending_events": []} == vars(third) | {"_pending_events": []}


def test_events_with_personal_data_are_always_decoded(app: PartnershipRegistry) -> None:
    with acting_as(RECORDER_ACTOR):
        partner_id = app.register_partner("Women's Forum", "national NGO", "national").id
        app.add_contact_person(partner_id, "Amina Example", email="amina@example.org")
    first = list(app.events.get(partner_id))[-1]
    second = list(app.events.get(partner_id))[-1]
    assert first == second
    assert first is not second


@dataclass(frozen=True)
class _Frozen:
    when: date
    items: tuple[str, ...]


@dataclass(frozen=True)
class _FrozenHoldingList:
    items: list[str] = field(default_factory=list)


def _snapshot(state: dict[str, object]) -> Snapshot:
    return Snapshot(
        originator_id=uuid4(),
        originator_version=3,
        timestamp=Snapshot.create_timestamp(),
        topic="domain.engagement:Engagement",
        state=state,
    )


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (_Frozen(date(2024, 1, 1), ("a", "b")), ()),
        (_FrozenHoldingList(["a"]), None),
        (_snapshot({"title": "Talks", "at": date(2024, 1, 1), "n": 3}), ()),
        (_snapshot({"follow_ups": {"k": _Frozen(date(2024, 1, 1), ())}, "ids": [UUID(int=1)]}),
         ("follow_ups", "ids")),
        (_snapshot({"follow_ups": {"k": ["mutable"]}}), None),
        (_snapshot({"nested": _FrozenHoldingList(["a"])}), None),
    ],
)  # fmt: skip
def test_only_objects_nothing_can_change_are_shared(
    obj: object, expected: tuple[str, ...] | None
) -> None:
    assert _sharing(obj) == expected


def test_a_snapshot_lets_go_of_the_events_it_covers(app: PartnershipRegistry) -> None:
    mapper = app.mapper
    assert isinstance(mapper, EnvelopeMapper)
    with acting_as(RECORDER_ACTOR):
        engagement_id = app.record_engagement("consultation", "Talks", "2024-03-14").id
        for n in range(4):  # versions 2-5: a snapshot at version 3, two events after it
            app.add_follow_up(engagement_id, f"Action {n}", "Civil Affairs")
    kept = sorted(
        (version, topic.split(":")[-1].split(".")[-1])
        for stream, version, topic in mapper._recent
        if stream == engagement_id
    )
    assert kept == [(3, "Snapshot"), (4, "FollowUpAdded"), (5, "FollowUpAdded")]
    reloaded = app.get_engagement(engagement_id)
    assert reloaded.version == 5
    assert len(reloaded.follow_ups) == 4


def test_value_objects_found_immutable_are_remembered_and_only_those() -> None:
    frozen = _Frozen(date(2024, 1, 1), ("a",))
    holding = _FrozenHoldingList(["a"])
    assert _immutable(frozen)
    assert _KNOWN_IMMUTABLE[id(frozen)] is frozen
    assert _immutable(frozen)  # from memory
    assert not _immutable(holding)
    assert _KNOWN_IMMUTABLE.get(id(holding)) is not holding
