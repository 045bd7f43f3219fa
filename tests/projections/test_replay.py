"""A rebuild reads the log without decoding what no view reads, and finds the same facts."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest

from domain.application import PartnershipRegistry
from domain.engagement import Engagement
from domain.partner import PartnerOrganisation
from domain.recorded import RegistryAggregate
from projections.batch import Fact, ViewBatch
from projections.handlers import HANDLERS, EventHandlers
from projections.replay import Replay, _uuid_from_hex
from tests.projections.test_rebuild import record_a_little_of_everything


def logged(registry: PartnershipRegistry, replay: Replay) -> list[Any]:
    return [stored for page in replay.pages(4) for stored in page]


def test_facts_read_off_payloads_equal_those_of_decoded_events(
    registry: PartnershipRegistry,
) -> None:
    record_a_little_of_everything(registry)
    fact_only = EventHandlers()

    @fact_only.on(RegistryAggregate.Event, reads_event=False)
    def noted(batch: ViewBatch, event: Any, fact: Fact) -> None:
        raise AssertionError("not called")

    replay = Replay(registry, fact_only)
    stored = logged(registry, replay)
    assert [s[0] for s in stored] == list(range(1, registry.max_position() + 1))
    items = replay.items(stored)
    expected = [
        Fact.of(registry.mapper.to_domain_event(n), n.id)
        for n in registry.recorder.select_notifications(start=1, limit=1000)
    ]
    assert [fact for _, fact in items] == expected
    for (event, _), (_, _, _, topic, _) in zip(items, stored, strict=True):
        assert vars(event) == {}  # not decoded: an empty instance of its class
        assert topic.endswith(type(event).__qualname__)


def test_events_decoded_whole_equal_those_the_mapper_decodes(
    registry: PartnershipRegistry,
) -> None:
    record_a_little_of_everything(registry)
    reads_all = EventHandlers()

    @reads_all.on(RegistryAggregate.Event)
    def noted(batch: ViewBatch, event: Any, fact: Fact) -> None:
        raise AssertionError("not called")

    replay = Replay(registry, reads_all)
    items = replay.items(logged(registry, replay))
    mapper: Any = registry.mapper  # decoding anew (to_domain_event may return what it wrote)
    mapped = [
        mapper.decode_opened(mapper.open_stored(n))
        for n in registry.recorder.select_notifications(start=1, limit=1000)
    ]
    assert [type(event) for event, _ in items] == [type(event) for event in mapped]
    assert [vars(event) for event, _ in items] == [vars(event) for event in mapped]
    assert [fact for _, fact in items] == [Fact.of(event, i + 1) for i, event in enumerate(mapped)]


def test_events_a_view_reads_are_decoded_the_others_not(registry: PartnershipRegistry) -> None:
    record_a_little_of_everything(registry)
    e = registry.record_engagement("roundtable", "Talks", "2020")
    registry.add_follow_up(e.id, "Write the minutes", "Secretariat")
    registry.activate_partner(registry.register_partner("Gamma", "media", "local").id)
    replay = Replay(registry, HANDLERS)
    items = replay.items(logged(registry, replay))
    decoded = {type(event): bool(vars(event)) for event, _ in items}
    assert decoded[PartnerOrganisation.Registered] is True
    assert decoded[Engagement.Corrected] is True
    assert decoded[Engagement.FollowUpAdded] is False
    assert decoded[PartnerOrganisation.Activated] is False
    assert decoded[PartnerOrganisation.Suspended] is False


def test_events_no_view_reads_are_skipped(registry: PartnershipRegistry) -> None:
    record_a_little_of_everything(registry)
    only_partners = EventHandlers()

    @only_partners.on(PartnerOrganisation.Event)
    def noted(batch: ViewBatch, event: Any, fact: Fact) -> None:
        raise AssertionError("not called")

    replay = Replay(registry, only_partners)
    items = replay.items(logged(registry, replay))
    assert items
    assert all(isinstance(event, PartnerOrganisation.Event) for event, _ in items)


@pytest.mark.parametrize(
    "text",
    [
        "f1bb3d6e744e4cf59eeba6db658602a1",
        "F1BB3D6E744E4CF59EEBA6DB658602A1",
        "f1bb3d6e-744e-4cf5-9eeb-a6db658602a1",
        "{f1bb3d6e744e4cf59eeba6db658602a1}",
        "0x" + "ab" * 15,
        "-" + "a" * 31,
        "g" * 32,
        "a" * 31,
        "a_" * 16,
    ],
)
def test_uuids_read_as_the_library_reads_them(text: str) -> None:
    try:
        expected: Any = UUID(text)
    except ValueError as error:
        expected = type(error)
    try:
        found: Any = _uuid_from_hex(text)
    except ValueError as error:
        found = type(error)
    assert found == expected
    if isinstance(expected, UUID):
        assert (found.int, found.is_safe, hash(found), str(found)) == (
            expected.int,
            expected.is_safe,
            hash(expected),
            str(expected),
        )


def test_a_payload_without_a_field_of_the_fact_is_decoded_whole(
    registry: PartnershipRegistry,
) -> None:
    e = registry.record_engagement("roundtable", "Talks", "2020")
    registry.add_follow_up(e.id, "Write the minutes", "Secretariat")
    replay = Replay(registry, HANDLERS)
    stored = logged(registry, replay)[-1]
    mapper: Any = registry.mapper
    clear = mapper.envelope.open(*stored[1:])
    plan = replay._plan(stored[3])
    assert replay._fact(plan, stored, clear) is not None
    payload = json.loads(clear)
    del payload["reason"]
    assert replay._fact(plan, stored, json.dumps(payload).encode()) is None


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_items_sent_to_another_process_arrive_as_read_here(
    registry: PartnershipRegistry, share: float
) -> None:
    record_a_little_of_everything(registry)
    reader, writer = Replay(registry, HANDLERS), Replay(registry, HANDLERS)
    stored = logged(registry, reader)
    here = Replay(registry, HANDLERS).items(stored)
    sent = reader.items_to_send(stored, share)
    left = sum(1 for _, fact in sent if fact is None)
    assert (left > 0) == (share > 0)
    arrived = writer.decode(reader.encode(sent))
    assert [fact for _, fact in arrived] == [fact for _, fact in here]
    assert [(type(e), vars(e)) for e, _ in arrived] == [(type(e), vars(e)) for e, _ in here]
