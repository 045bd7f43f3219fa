"""Reading the log for a rebuild: decrypt every event, decode only what the views read.

Every payload is decrypted (``EnvelopeCipher.open``: one altered or moved fails as anywhere).
Handlers say which attributes of an event they read (``EventHandlers.attributes_read``): the
payload is parsed without the transcoder's object hook (orjson), the ``Fact`` is read from its
common fields, and only the attributes read are decoded, through the same transcodings, onto an
instance of the event's class; an event no handler reads beyond its fact is not decoded at all
(the handlers get an empty instance of its class). A payload of any other shape than expected (a
class version to upcast, a timestamp or actor that is not plain text, JSON that orjson refuses,
...) and an event a handler reads whole are decoded whole, as the follower decodes them.
"""

from __future__ import annotations

import copyreg
import io
import json
import pickle
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID, SafeUUID

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    StoredEvent,
    UUIDAsHex,
    find_id_convertor,
)
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.utils import resolve_topic

from domain.valid_time import ValidTime
from projections.batch import (
    Appends,
    Collected,
    Fact,
    Period,
    iso_instant,
    period,
    recorded_fact,
    type_names,
)
from projections.handlers import HANDLERS, EventHandlers
from security.envelope import EnvelopeMapper

_PERIODS = 65536
_CONTAINERS = (dict, list)
_UTC_INSTANT = re.compile(
    r"\d{4}-\d{2}-\d{2}T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{6}\+00:00", re.ASCII
).fullmatch
"""What ``iso_instant`` writes of an instant with microseconds (hours 00-23 only: a later Python
reads 24:00 as the next day's midnight)."""
_RECORD_IDS = 65536
_UNKNOWN_SAFETY = SafeUUID.unknown  # an enum member read once (each read runs a descriptor)


def _uuid(value: int, is_safe: SafeUUID) -> UUID:
    """A UUID as pickled by ``encode`` (its own pickling runs ``__setstate__`` in Python)."""
    found = object.__new__(UUID)
    object.__setattr__(found, "int", value)
    object.__setattr__(found, "is_safe", is_safe)
    return found


def _uuid_from_hex(text: str) -> UUID:
    """``UUID(text)`` (what ``UUIDAsHex`` decodes), without its parsing for the usual form:
    32 letters or digits go to ``int(text, 16)`` as in ``UUID.__init__``; anything else to it."""
    if len(text) != 32 or not text.isalnum():
        return UUID(text)
    return _uuid(int(text, 16), _UNKNOWN_SAFETY)


def _reduce_uuid(value: UUID) -> tuple[Any, tuple[int, SafeUUID]]:
    return _uuid, (value.int, value.is_safe)


_DISPATCH = {**copyreg.dispatch_table, UUID: _reduce_uuid}


def _same(data: bytes) -> bytes:
    return data


class _Plan(NamedTuple):
    event_class: type
    reads: frozenset[str] | None
    """The attributes its handlers read (None: all of them, decode it whole)."""
    blank: Any
    """An instance of the class without attributes, for handlers that read only the class."""
    handled: bool
    """Some handler listens: an event no view reads is neither decrypted nor decoded."""
    class_version: int
    record_ids: dict[Any, str]
    """Stored originator ids of this class's events, as text (converted as the mapper does)."""
    originator_ids: dict[Any, Any]
    """Stored originator ids of this class's events, converted as the mapper converts them."""
    names: tuple[str, str]
    """The event's record type and event type (``type_names``)."""


Stored = tuple[int, Any, int, str, bytes]
"""A notification as a rebuild reads it: id, originator id, version, topic, state."""


class Replay:
    """Turns notifications of ``app``'s log into (event, fact) pairs for the projection."""

    def __init__(self, app: Any, handlers: EventHandlers = HANDLERS) -> None:
        mapper = app.mapper
        if not isinstance(mapper, EnvelopeMapper) or not isinstance(
            mapper.transcoder, JSONTranscoder
        ):
            raise TypeError("a rebuild reads the log through security.envelope:EnvelopeMapper")
        self._app = app
        self._mapper = mapper
        self._open = mapper.envelope.open
        self._prefetch = mapper.envelope.prefetch_keys
        self._handlers = handlers
        self._names = names = mapper.transcoder.names
        self._erasures = mapper.erasures
        compressor = mapper.compressor
        self._decompressed: Any = compressor.decompress if compressor else _same

        uuids = names.get("uuid_hex")
        uuid_hex = type(uuids) is UUIDAsHex

        def tagged(kind: Any, data: Any) -> Any:
            if kind == "uuid_hex" and uuid_hex and type(data) is str:
                return _uuid_from_hex(data)
            return names[kind].decode(data)

        def transcoded(found: dict[str, Any]) -> Any:  # JSONTranscoder._decode_obj, leaner
            if len(found) == 2 and "_type_" in found and "_data_" in found:
                return tagged(found["_type_"], found["_data_"])
            return found

        self._tagged = tagged
        self._datetime = names["datetime_iso"]
        self._canonical_instants = type(self._datetime) is DatetimeAsISO
        """Stored recorded times are read by ``datetime.fromisoformat`` (see ``_instant``)."""
        self._loads = json.JSONDecoder(object_hook=transcoded).decode
        self._plans: dict[str, _Plan] = {}
        self._periods: dict[str, Period] = {}
        self._valid_periods: dict[ValidTime, Period] = {}
        self._streams: dict[str, str] = {}
        self._blanks: dict[int, str] = {}
        """Topics by the id of their plan's blank event (plans live as long as this replay)."""

    def pages(
        self, size: int, after: int = 0, *, small: int | None = None, end: int | None = None
    ) -> Iterator[list[Stored]]:
        """The log after position ``after``, ``size`` notifications a page; ``small`` ones for
        the first page and for those from ``2 * size`` before position ``end`` on (so that a
        process receiving the pages starts sooner and is left less to do after the last)."""
        recorder = self._app.recorder
        datastore = getattr(recorder, "datastore", None)
        table = getattr(recorder, "events_table_name", None)
        position = after
        tail = None if end is None else end - 2 * size
        wanted = small or size
        while True:
            page: list[Stored]
            if isinstance(datastore, SQLiteDatastore) and isinstance(table, str):
                # The library's select_notifications, without its objects: plain rows.
                with datastore.transaction(commit=False) as cursor:
                    raw = cursor.sqlite_cursor
                    raw.row_factory = None
                    raw.execute(
                        "SELECT rowid, originator_id, originator_version, topic, state "  # noqa: S608
                        f"FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?",
                        (position, wanted),
                    )
                    rows = raw.fetchall()
                # Stream ids as text, converted once per stream as the recorder converts them.
                streams = self._streams
                page = []
                for row in rows:
                    stream = streams.get(row[1])
                    if stream is None:
                        if len(streams) >= _RECORD_IDS:
                            streams.clear()
                        stream = streams[row[1]] = str(recorder.convert_originator_id(row[1]))
                    page.append((row[0], stream, row[2], row[3], row[4]))
            else:
                page = [
                    (n.id, n.originator_id, n.originator_version, n.topic, n.state)
                    for n in recorder.select_notifications(
                        start=position, limit=wanted, inclusive_of_start=False
                    )
                ]
            if not page:
                return
            yield page
            position = page[-1][0]
            wanted = small if small and tail is not None and position >= tail else size

    def items(self, notifications: Sequence[Stored]) -> list[tuple[Any, Fact]]:
        """(event, fact) of each notification some view reads, in order."""
        found: list[tuple[Any, Fact]] = self._items(notifications, 0.0, None)
        return found

    def items_to_send(
        self,
        notifications: Sequence[Stored],
        share: float,
        appends: Appends | None = None,
        appends_share: float = 0.0,
    ) -> list[Any]:
        """``items`` for ``encode``, but about ``share`` of the events to decode left decrypted
        only, for the receiving process to decode (``decode``): a writer that waits for pages
        takes on part of the reader's work. With ``appends``, the handlers registered
        ``appends_only`` run here, into it, for the events decoded here but about
        ``appends_share`` of them, left to the writer; an event with no other handler and whose
        appends ran here is then left out."""
        return self._items(notifications, share, appends, appends_share)

    def _items(
        self,
        notifications: Sequence[Stored],
        share: float,
        appends: Appends | None,
        appends_share: float = 0.0,
    ) -> list[Any]:
        """Pairs (event, fact), or (``(id, stream, version, topic, payload)``, None) for events
        handed over decrypted only; with ``appends``, triples whose last value says whether the
        event's appends-only handlers ran here."""
        found: list[Any] = []
        append = found.append
        plans = self._plans
        open_payload = self._open
        handlers = self._handlers
        handed = left = 0.0
        self._prefetch(n[4] for n in notifications)
        for n in notifications:
            topic = n[3]
            plan = plans.get(topic)
            if plan is None:
                plan = self._plan(topic)
            if not plan.handled:
                continue
            clear = open_payload(n[1], n[2], topic, n[4])
            if share and plan.reads != frozenset():
                handed += share
                if handed >= 1.0:
                    handed -= 1.0
                    raw = (n[0], n[1], n[2], topic, clear)
                    append((raw, None) if appends is None else (raw, None, False))
                    continue
            item = self._item(plan, n, clear)
            if appends is None:
                append(item)
                continue
            if appends_share:
                left += appends_share
                if left >= 1.0:
                    left -= 1.0
                    append((*item, False))
                    continue
            event, fact = item
            for handler in handlers.appending(plan.event_class):
                handler(appends, event, fact)
            if handlers.others(plan.event_class):
                append((event, fact, True))
        return found

    def _item(self, plan: _Plan, n: Stored, clear: bytes) -> tuple[Any, Fact]:
        """(event, fact) of a notification whose payload ``clear`` is decrypted."""
        if plan.reads is not None:
            return self._partial(plan, n, clear)
        return self._whole(plan, n, clear)

    def _partial(self, plan: _Plan, n: Stored, clear: bytes) -> tuple[Any, Fact]:
        """(event, fact), the event holding only the attributes ``plan.reads`` names; decoded
        whole when the payload is not of the expected shape."""
        try:
            # orjson reads what json reads, alike; what it refuses (NaN, lone surrogates, integers
            # beyond 64 bits) is decoded whole, by the mapper's json, as is anything not JSON.
            payload = orjson.loads(self._decompressed(clear))
        except orjson.JSONDecodeError:
            return self._whole(plan, n, clear)
        if type(payload) is not dict:
            return self._whole(plan, n, clear)
        fact = self._fact(plan, n, payload)
        if fact is None:
            return self._whole(plan, n, clear)
        reads = plan.reads
        if not reads:
            return plan.blank, fact
        state = {}
        value = self._value
        erasures = self._erasures
        erasures.begin_event()
        try:
            for name in reads:
                stored = payload[name]  # missing: a class attribute may stand in (KeyError)
                state[name] = value(stored) if type(stored) in _CONTAINERS else stored
        except Exception:  # decoded whole, which raises the mapper's error if there is one
            return self._whole(plan, n, clear)
        finally:
            erasures.end_event()
        event: Any = object.__new__(plan.event_class)
        object.__setattr__(event, "__dict__", state)
        return event, fact

    def _value(self, stored: Any) -> Any:
        """A JSON value parsed without the object hook, decoded as ``JSONTranscoder`` decodes
        it: bottom-up, each object of exactly the keys ``_type_`` and ``_data_`` through the
        transcoding of that name (the object itself, modified in place, otherwise)."""
        value = self._value
        if type(stored) is list:
            for index, item in enumerate(stored):
                if type(item) in _CONTAINERS:
                    stored[index] = value(item)
            return stored
        if len(stored) == 2 and "_type_" in stored and "_data_" in stored:
            # A name that is not text fails in the transcoder as here (unknown or unhashable).
            data = stored["_data_"]
            return self._tagged(
                stored["_type_"], value(data) if type(data) in _CONTAINERS else data
            )
        for key, item in stored.items():
            if type(item) in _CONTAINERS:
                stored[key] = value(item)
        return stored

    def _whole(self, plan: _Plan, n: Stored, clear: bytes) -> tuple[Any, Fact]:
        """(event, fact) of an event decoded whole from its decrypted payload ``clear``."""
        event = self._event(plan, n, clear)
        if event is None:  # the mapper's way, which raises what it raises
            event = self._mapper.decode_opened(StoredEvent(n[1], n[2], n[3], clear))
            return event, Fact.of(event, n[0])
        return event, self._fact_of(plan, n, event)

    def encode(self, items: Sequence[tuple[Any, ...]], appended: Collected | None = None) -> bytes:
        """``items`` (and what the appends-only handlers gave for them) as bytes for ``decode``
        in another process: facts as plain tuples, events that were not decoded as their topic
        (a fraction of the cost of pickling objects)."""
        blanks = self._blanks
        out = io.BytesIO()
        pickler = pickle.Pickler(out, pickle.HIGHEST_PROTOCOL)
        pickler.dispatch_table = _DISPATCH
        pickler.dump(
            (
                [
                    (
                        blanks.get(id(item[0]), item[0]),
                        None if item[1] is None else tuple(item[1]),
                        *item[2:],
                    )
                    for item in items
                ],
                appended,
            )
        )
        return out.getvalue()

    def decode(self, data: bytes, appends: Appends | None = None) -> list[tuple[Any, Fact]]:
        """The items ``encode`` gave (from a process reading the same log).

        With ``appends``, the appends-only handlers have run for every item returned: it
        absorbs what they gave in the sender, and takes what they give for the events whose
        handlers did not run there (all of them, if the sender did not run any); only the other
        handlers are left to run, and an event that has none is left out. Without, rows the
        sender gathered would be lost: ValueError.
        """
        plans = self._plans
        appending = self._handlers.appending
        others = self._handlers.others
        found = []
        sent, appended = pickle.loads(data)  # noqa: S301 (from our own reader process)
        if appended is not None:
            if appends is None:
                raise ValueError("these items come with appended rows: give decode an Appends")
            appends.absorb(appended)
        for event, fact, *done in sent:
            kind = type(event)
            if kind is str:
                plan = plans.get(event) or self._plan(event)
                item = (plan.blank, Fact._make(fact))
            elif kind is tuple:  # left decrypted only: (id, stream, version, topic, clear)
                plan = plans.get(event[3]) or self._plan(event[3])
                item = self._item(plan, event, event[4])
            else:
                item = (event, Fact._make(fact))
            if appends is not None and not (done and done[0]):
                event_class = type(item[0])
                for handler in appending(event_class):
                    handler(appends, *item)
                if not others(event_class):
                    continue
            found.append(item)
        return found

    def _plan(self, topic: str) -> _Plan:
        event_class = resolve_topic(topic)
        plan = _Plan(
            event_class,
            self._handlers.attributes_read(event_class),
            object.__new__(event_class),
            bool(self._handlers.for_class(event_class)),
            int(getattr(event_class, "class_version", 1)),
            {},
            {},
            type_names(event_class),
        )
        self._plans[topic] = plan
        self._blanks[id(plan.blank)] = topic
        return plan

    def _event(self, plan: _Plan, n: Stored, clear: bytes) -> Any:
        """The domain event, decoded as ``EnvelopeMapper.decode_opened`` decodes it (the
        library's ``Mapper.to_domain_event``, eventsourcing 9.5.6: same transcodings, same
        state) with less on the way: a lean object hook, stream ids converted once per stream;
        None for anything else (a class version to upcast, an error), left to the mapper."""
        if plan.class_version != 1:
            return None
        try:
            with self._erasures.one_event():
                state = self._loads(self._decompressed(clear).decode())
        except Exception:  # the mapper decodes it again and raises its error
            return None
        if type(state) is not dict or "class_version" in state:
            return None
        stream = n[1]
        originator_id = plan.originator_ids.get(stream)
        if originator_id is None:
            kind: Any = type(stream)
            originator_id = find_id_convertor(plan.event_class, kind)(stream)
            if len(plan.originator_ids) >= _RECORD_IDS:
                plan.originator_ids.clear()
            plan.originator_ids[stream] = originator_id
        state["originator_id"] = originator_id
        state["originator_version"] = n[2]
        event: Any = object.__new__(plan.event_class)
        object.__setattr__(event, "__dict__", state)
        return event

    def _fact_of(self, plan: _Plan, n: Stored, event: Any) -> Fact:
        """``Fact.of(event)`` of an event ``_event`` decoded, with the stream's id as text and
        the period of each valid time computed once."""
        timestamp: datetime = event.timestamp
        valid: Any = getattr(event, "valid_time", None)
        memo = type(valid) is ValidTime
        found = self._valid_periods.get(valid) if memo else None
        if found is None:
            found = period(valid, timestamp)
            if memo:
                if len(self._valid_periods) >= _PERIODS:
                    self._valid_periods.clear()
                self._valid_periods[valid] = found
        record_id = plan.record_ids.get(n[1])
        if record_id is None:
            record_id = self._record_id(plan, n[1])
        return Fact.stated(
            plan.event_class,
            record_id,
            int(event.originator_version),
            n[0],
            timestamp,
            found,
            str(getattr(event, "actor_id", "")),
            str(getattr(event, "actor_role", "")),
            str(getattr(event, "reason", "") or ""),
        )

    def _fact(self, plan: _Plan, n: Stored, payload: dict[str, Any]) -> Fact | None:
        """The fact read straight off the parsed payload; None when it is not of the expected
        shape (a field missing, which a class attribute may stand in for; not plain text; a
        class version to upcast first)."""
        try:
            stamp = payload["timestamp"]
            stated = payload["valid_time"]
            actor_id = payload["actor_id"]
            actor_role = payload["actor_role"]
            reason = payload["reason"] or ""
        except KeyError:
            return None
        if type(actor_id) is not str or type(actor_role) is not str or type(reason) is not str:
            return None
        if "class_version" in payload and payload["class_version"] != plan.class_version:
            return None
        if plan.class_version != 1 and "class_version" not in payload:
            return None  # to be upcast first
        text = stamp.get("_data_") if type(stamp) is dict else None
        if type(text) is not str or len(stamp) != 2 or stamp.get("_type_") != "datetime_iso":
            return None
        recorded_at = self._instant(text)
        if recorded_at is None:
            return None
        if stated is None:
            valid = period(None, self._datetime.decode(text))
        else:
            valid_text = stated.get("_data_") if type(stated) is dict else None
            if type(valid_text) is not str:
                return None
            found = self._periods.get(valid_text)
            if found is None or len(stated) != 2 or stated.get("_type_") != "valid_time":
                found = self._period(stated, valid_text, self._datetime.decode(text))
                if found is None:
                    return None
            valid = found
        record_id = plan.record_ids.get(n[1])
        if record_id is None:
            record_id = self._record_id(plan, n[1])
        return recorded_fact(
            record_id,
            int(n[2]),
            plan.names,
            n[0],
            actor_id,
            actor_role,
            reason,
            recorded_at,
            valid,
        )

    def _instant(self, text: str) -> str | None:
        """``iso_instant`` of the recorded time stored as ``text``; None if it is not one.

        With the library's ``DatetimeAsISO``, a text already in the fixed-width UTC form (what
        ``isoformat`` writes of an instant with microseconds, in UTC) is that form itself once
        ``fromisoformat`` accepts it; anything else is decoded and formatted.
        """
        try:
            timestamp = self._datetime.decode(text)
        except Exception:  # the mapper decodes it again and raises its error
            return None
        if type(timestamp) is not datetime:
            return None
        if self._canonical_instants and _UTC_INSTANT(text) is not None:
            return text
        return iso_instant(timestamp)

    def _record_id(self, plan: _Plan, originator_id: Any) -> str:
        """The event's ``originator_id`` as text, converted as the mapper converts it."""
        converted = originator_id
        if type(converted) is not UUID:
            kind: Any = type(converted)
            converted = find_id_convertor(plan.event_class, kind)(converted)
        found = str(converted)
        if len(plan.record_ids) >= _RECORD_IDS:
            plan.record_ids.clear()
        plan.record_ids[originator_id] = found
        return found

    def _period(self, stated: Any, text: str, timestamp: datetime) -> Period | None:
        valid = self._transcoded(stated, "valid_time")
        if valid is None:
            return None
        found = period(valid, timestamp)
        if len(self._periods) >= _PERIODS:
            self._periods.clear()
        self._periods[text] = found
        return found

    def _transcoded(self, stored: Any, name: str) -> Any:
        """``stored`` decoded when it is ``{"_type_": name, "_data_": text}``, else None."""
        if type(stored) is not dict or len(stored) != 2 or stored.get("_type_") != name:
            return None
        data = stored.get("_data_")
        transcoding = self._names.get(name)
        if type(data) is not str or transcoding is None:
            return None
        return transcoding.decode(data)
