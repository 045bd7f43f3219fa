"""A rebuild reads the log without decoding what no view reads, and finds the same facts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import orjson
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import resolve_topic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.access_log import AccessLog
from domain.application import PartnershipRegistry
from domain.decision import DueDiligenceDecision
from domain.engagement import Engagement
from domain.partner import PartnerOrganisation
from domain.recorded import RegistryAggregate
from domain.risk_assessment import RiskAssessment
from projections.batch import Fact, ViewBatch, iso_instant
from projections.handlers import HANDLERS, EventHandlers
from projections.replay import Replay, _uuid_from_hex
from tests.projections.test_rebuild import record_every_kind_of_event


def logged(registry: PartnershipRegistry, replay: Replay) -> list[Any]:
    return [stored for page in replay.pages(4) for stored in page]


def test_facts_read_off_payloads_equal_those_of_decoded_events(
    registry: PartnershipRegistry,
) -> None:
    record_every_kind_of_event(registry)
    fact_only = EventHandlers()

    @fact_only.on(RegistryAggregate.Event, reads=())
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
    record_every_kind_of_event(registry)
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
    record_every_kind_of_event(registry)
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
    record_every_kind_of_event(registry)
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
    assert replay._fact(plan, stored, json.loads(clear)) is not None
    payload = json.loads(clear)
    del payload["reason"]
    assert replay._fact(plan, stored, payload) is None


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_items_sent_to_another_process_arrive_as_read_here(
    registry: PartnershipRegistry, share: float
) -> None:
    record_every_kind_of_event(registry)
    reader, writer = Replay(registry, HANDLERS), Replay(registry, HANDLERS)
    stored = logged(registry, reader)
    here = Replay(registry, HANDLERS).items(stored)
    sent = reader.items_to_send(stored, share)
    left = sum(1 for _, fact in sent if fact is None)
    assert (left > 0) == (share > 0)
    arrived = writer.decode(reader.encode(sent))
    assert [fact for _, fact in arrived] == [fact for _, fact in here]
    assert [(type(e), vars(e)) for e, _ in arrived] == [(type(e), vars(e)) for e, _ in here]


def test_events_are_decoded_as_far_as_their_handlers_read(registry: PartnershipRegistry) -> None:
    record_every_kind_of_event(registry)
    replay = Replay(registry, HANDLERS)
    items = replay.items(logged(registry, replay))
    mapper: Any = registry.mapper
    mapped = [
        mapper.decode_opened(mapper.open_stored(n))
        for n in registry.recorder.select_notifications(start=1, limit=1000)
    ]
    assert [fact for _, fact in items] == [Fact.of(event, i + 1) for i, event in enumerate(mapped)]
    read_some = set()
    for (event, _), whole in zip(items, mapped, strict=True):
        assert type(event) is type(whole)
        reads = HANDLERS.attributes_read(type(whole))
        assert reads is not None
        assert vars(event) == {name: getattr(whole, name) for name in reads}
        if reads:
            read_some.add(type(whole))
    handled = {
        klass
        for topic in {n.topic for n in registry.recorder.select_notifications(start=1, limit=1000)}
        for klass in [resolve_topic(topic)]
        if HANDLERS.attributes_read(klass)
    }
    assert read_some == handled
    every_reading_class = {klass for klass in _event_classes() if HANDLERS.attributes_read(klass)}
    assert every_reading_class <= read_some  # the scenario reaches every class a view reads


def _event_classes() -> set[type]:
    found = set()
    for aggregate in (
        PartnerOrganisation,
        Engagement,
        RiskAssessment,
        DueDiligenceDecision,
        AccessLog,
    ):
        for value in vars(aggregate).values():
            if isinstance(value, type) and issubclass(value, RegistryAggregate.Event):
                found.add(value)
    return found


def test_a_value_orjson_refuses_is_decoded_whole_as_the_mapper_decodes_it(
    registry: PartnershipRegistry,
) -> None:
    registry.register_partner("Delta", "media", "local")
    replay = Replay(registry, HANDLERS)
    stored = logged(registry, replay)[-1]
    mapper: Any = registry.mapper
    payload = json.loads(mapper.envelope.open(*stored[1:]))
    payload["profile"]["_data_"]["name"] = "Delta \ud800"  # a lone surrogate: json reads it
    clear = json.dumps(payload).encode()
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(clear)
    plan = replay._plan(stored[3])
    event, fact = replay._partial(plan, stored, clear)
    assert event.profile.name == "Delta \ud800"
    assert fact == Fact.of(
        mapper.decode_opened(StoredEvent(stored[1], stored[2], stored[3], clear)), stored[0]
    )


def test_a_handler_may_not_name_a_field_its_events_do_not_store() -> None:
    handlers = EventHandlers()
    with pytest.raises(ValueError, match="stores no field colour"):
        handlers.on(PartnerOrganisation.Registered, reads=("profile", "colour"))
    with pytest.raises(ValueError, match="stores no field originator_id"):
        handlers.on(PartnerOrganisation.Registered, reads=("originator_id",))


def test_attributes_read_are_those_of_every_handler_along_the_class_hierarchy() -> None:
    handlers = EventHandlers()
    noop: Any = lambda batch, event, fact: None  # noqa: E731
    handlers.on(RegistryAggregate.Event, reads=())(noop)
    handlers.on(RiskAssessment.Event, reads=("partner_id",))(noop)
    handlers.on(RiskAssessment.RiskAdded, reads=("risk",))(noop)
    assert handlers.attributes_read(RiskAssessment.RiskAdded) == frozenset({"partner_id", "risk"})
    assert handlers.attributes_read(RiskAssessment.Submitted) == frozenset({"partner_id"})
    assert handlers.attributes_read(PartnerOrganisation.Activated) == frozenset()
    assert not handlers.reads_event(PartnerOrganisation.Activated)
    handlers.on(PartnerOrganisation.Event)(noop)
    assert handlers.attributes_read(PartnerOrganisation.Activated) is None
    assert handlers.reads_event(PartnerOrganisation.Activated)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    moment=st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.one_of(
            st.none(),
            st.just(UTC),
            st.builds(
                timezone,
                st.timedeltas(min_value=-timedelta(hours=23), max_value=timedelta(hours=23)),
            ),
        ),
    ),
    spec=st.sampled_from(["auto", "microseconds", "seconds", "milliseconds"]),
    separator=st.sampled_from(["T", " "]),
)
def test_recorded_times_read_off_payloads_are_those_of_decoded_ones(
    registry: PartnershipRegistry, moment: datetime, spec: str, separator: str
) -> None:
    text = moment.isoformat(separator, timespec=spec)
    expected = iso_instant(datetime.fromisoformat(text))
    assert Replay(registry, HANDLERS)._instant(text) == expected
