"""Envelope encryption of stored events: AES-256-GCM under each stream's data key (docs/design.md).

The library builds ``EnvelopeCipher`` (CIPHER_TOPIC) and ``EnvelopeMapper`` (MAPPER_TOPIC).
"""

from __future__ import annotations

import copy
import dataclasses
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import CanSnapshotAggregate, DomainEventProtocol
from eventsourcing.persistence import (
    Cipher,
    Compressor,
    JSONTranscoder,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
    Transcoding,
)
from eventsourcing.utils import Environment, get_topic

from security.keys import KeyStore, open_key_store
from security.keys.store import STREAM
from security.personal_data_sealing import (
    ErasureWatch,
    SealedDataIntegrityError,
    SealedPersonalData,
)
from security.tagged_json import TaggedEncoder

MAGIC = b"PR"
FORMAT_VERSION = 1
NONCE_BYTES = 12
HEADER = struct.Struct(">2sB16sIq12s")  # magic, format, key id, key version, micros, nonce
HEADER_BYTES = HEADER.size  # 43
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
KEY_CACHE = 4096
"""Most stream keys whose AESGCM objects a cipher keeps (like the key store's LRU)."""
_MAGIC_AND_FORMAT = MAGIC + bytes((FORMAT_VERSION,))
_MICROSECOND = timedelta(microseconds=1)
_U32 = struct.Struct(">I").pack
_I64 = struct.Struct(">q").pack
_T = TypeVar("_T")
_MIN_US = (datetime.min.replace(tzinfo=UTC) - EPOCH) // _MICROSECOND
_MAX_US = (datetime.max.replace(tzinfo=UTC) - EPOCH) // _MICROSECOND


class EnvelopeFormatError(ValueError):
    """The bytes do not start with a registry envelope header."""


class IntegrityError(MapperDeserialisationError):
    """A stored payload does not belong where it is stored, or was altered."""

    def __init__(self, stream_id: object, version: int, topic: str, why: str) -> None:
        super().__init__(
            f"stored event of stream {stream_id}, version {version}, type {topic} "
            f"failed its integrity check: {why}"
        )
        self.stream_id = stream_id
        self.version = version
        self.topic = topic


@dataclass(frozen=True)
class EnvelopeHeader:
    """The clear 43-byte header of a stored payload: which key, when recorded, which nonce."""

    format_version: int
    key_id: UUID
    key_version: int
    recorded_at: datetime
    nonce: bytes

    def to_bytes(self) -> bytes:
        micros = (self.recorded_at - EPOCH) // timedelta(microseconds=1)
        return HEADER.pack(
            MAGIC, self.format_version, self.key_id.bytes, self.key_version, micros, self.nonce
        )


def read_header(state: bytes) -> EnvelopeHeader:
    """Parse the header of a stored payload without any key (for the ledger and tools)."""
    if len(state) < HEADER_BYTES:
        raise EnvelopeFormatError(f"payload of {len(state)} bytes is shorter than the header")
    magic, version, key_id, key_version, micros, nonce = HEADER.unpack_from(state)
    if magic != MAGIC:
        raise EnvelopeFormatError(f"payload does not start with {MAGIC!r}")
    if version != FORMAT_VERSION:
        raise EnvelopeFormatError(f"unknown envelope format version {version}")
    try:
        recorded_at = EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        raise EnvelopeFormatError(f"recorded time {micros} us is out of range") from None
    return EnvelopeHeader(
        format_version=version,
        key_id=UUID(bytes=key_id),
        key_version=key_version,
        recorded_at=recorded_at,
        nonce=nonce,
    )


def associated_data(header: bytes, stream_id: object, version: int, topic: str) -> bytes:
    """header || stream id || 0 || version (8 bytes) || 0 || topic, as in docs/design.md."""
    return b"".join(
        (
            header,
            str(stream_id).encode(),
            b"\x00",
            version.to_bytes(8, "big", signed=True),
            b"\x00",
            topic.encode(),
        )
    )


class EnvelopeCipher(Cipher):
    """Holds the key store of this environment's backend; seals and opens whole payloads.

    Its context-free ``encrypt``/``decrypt`` refuse: a payload must be bound to its stream,
    version and type, which only ``EnvelopeMapper`` knows.
    """

    def __init__(self, environment: Environment) -> None:
        self.keys = open_key_store(environment)

    @property
    def keys(self) -> KeyStore:
        return self._keys

    @keys.setter
    def keys(self, keys: KeyStore) -> None:
        self._keys = keys
        # Stream keys are never destroyed nor re-keyed (rotation re-wraps the same secret), so
        # each one's AESGCM object is kept: by subject for sealing, by key id for opening.
        self._sealers: dict[object, tuple[bytes, AESGCM, bytes]] = {}
        self._openers: dict[bytes, tuple[str, bytes, AESGCM, bytes]] = {}
        """By key id: the key's subject, its version as in headers, its cipher, and the
        subject's part of the associated data."""

    def encrypt(self, plaintext: bytes) -> bytes:
        del plaintext
        raise TypeError(
            "EnvelopeCipher encrypts only through security.envelope:EnvelopeMapper "
            "(set MAPPER_TOPIC)"
        )

    def decrypt(self, ciphertext: bytes) -> bytes:
        del ciphertext
        raise TypeError(
            "EnvelopeCipher decrypts only through security.envelope:EnvelopeMapper "
            "(set MAPPER_TOPIC)"
        )

    def seal(
        self, stream_id: object, version: int, topic: str, recorded_at: datetime, plaintext: bytes
    ) -> bytes:
        sealer = self._sealers.get(stream_id)
        if sealer is None:
            subject = str(stream_id)
            key = self.keys.data_key_for_stream(subject)
            assert key.secret is not None  # stream keys are never destroyed
            prefix = MAGIC + bytes((FORMAT_VERSION,)) + key.key_id.bytes + _U32(key.version)
            sealer = self._remember(
                self._sealers, stream_id, (prefix, AESGCM(key.secret), subject.encode() + b"\x00")
            )
        prefix, aead, subject_field = sealer
        nonce = os.urandom(NONCE_BYTES)
        header = prefix + _I64((recorded_at - EPOCH) // _MICROSECOND) + nonce
        aad = b"".join(
            (
                header,
                subject_field,
                version.to_bytes(8, "big", signed=True),
                b"\x00",
                topic.encode(),
            )
        )  # associated_data(header, stream_id, version, topic), with the stream's part kept
        return header + aead.encrypt(nonce, plaintext, aad)

    def open(self, stream_id: object, version: int, topic: str, state: bytes) -> bytes:
        opener = self._openers.get(state[3:19]) if state[:3] == _MAGIC_AND_FORMAT else None
        if (
            opener is None
            or opener[0] != str(stream_id)
            or len(state) < HEADER_BYTES
            or opener[1] != state[19:23]
            or not _MIN_US <= int.from_bytes(state[23:31], "big", signed=True) <= _MAX_US
        ):
            opener = self._opener(stream_id, version, topic, state)
        aad = b"".join(
            (
                state[:HEADER_BYTES],
                opener[3],
                version.to_bytes(8, "big", signed=True),
                b"\x00",
                topic.encode(),
            )
        )  # associated_data(header, stream_id, version, topic), with the stream's part kept
        try:
            return opener[2].decrypt(state[31:HEADER_BYTES], state[HEADER_BYTES:], aad)
        except InvalidTag:
            raise IntegrityError(
                stream_id, version, topic, "the payload was altered or belongs elsewhere"
            ) from None

    def prefetch_keys(self, states: Iterable[bytes]) -> None:
        """Load the keys of these payloads not met yet in one go (``open`` still checks each)."""
        ids = {
            state[3:19]
            for state in states
            if state[:3] == _MAGIC_AND_FORMAT and len(state) >= HEADER_BYTES
        }
        ids.difference_update(self._openers)
        if ids:
            self.keys.prefetch_stream_keys(UUID(bytes=key_id) for key_id in ids)

    def _opener(
        self, stream_id: object, version: int, topic: str, state: bytes
    ) -> tuple[str, bytes, AESGCM, bytes]:
        """Check the header and its key (the slow path, once per key): raise IntegrityError."""
        try:
            header = read_header(state)
        except EnvelopeFormatError as error:
            raise IntegrityError(stream_id, version, topic, str(error)) from None
        key = self.keys.key_by_id(header.key_id)
        if key is None:
            raise IntegrityError(stream_id, version, topic, f"unknown data key {header.key_id}")
        if key.purpose != STREAM or key.subject != str(stream_id) or key.secret is None:
            raise IntegrityError(stream_id, version, topic, "sealed under another stream's key")
        if key.version != header.key_version:
            raise IntegrityError(stream_id, version, topic, "key version does not match")
        opener = (
            key.subject,
            _U32(key.version),
            AESGCM(key.secret),
            key.subject.encode() + b"\x00",
        )
        return self._remember(self._openers, key.key_id.bytes, opener)

    @staticmethod
    def _remember(cache: dict[Any, Any], key: Any, value: _T) -> _T:
        if len(cache) >= KEY_CACHE:
            cache.clear()
        cache[key] = value
        return value


MEMOISED_VALUES = ("valid_time", "date_iso")
"""Transcodings of immutable values (``ValidTime``, ``date``) whose decoded objects are shared:
events repeat a few thousand distinct dates, and parsing them was a tenth of reading an event."""
MEMO_SIZE = 65536


class _MemoisedDecode(Transcoding):
    """Decodes through ``inner`` once per distinct stored text; encodes as ``inner`` does."""

    def __init__(self, inner: Transcoding) -> None:
        self.inner = inner
        self.type = inner.type
        self.name = inner.name
        self._decoded: dict[Any, Any] = {}

    def encode(self, obj: Any) -> Any:
        return self.inner.encode(obj)

    def decode(self, data: Any) -> Any:
        try:
            return self._decoded[data]
        except KeyError:
            pass
        except TypeError:  # not hashable: not a stored text
            return self.inner.decode(data)
        value = self.inner.decode(data)
        if len(self._decoded) >= MEMO_SIZE:
            self._decoded.clear()
        self._decoded[data] = value
        return value


RECENT_EVENTS = 4096
"""Events and snapshots this process wrote lately, kept as objects. Commands reload the records
they just changed (the last snapshot, then the events after it): a read of exactly the bytes
this process sealed (same stream, version, type and payload) returns the object instead of
decrypting and decoding it again. Only objects made wholly of immutable values are shared (an
event's fields, a snapshot's state values: the library copies a snapshot's state dict when it
rebuilds an aggregate), checked on the first read that finds them; never one holding personal
data (its decoding depends on the person's key, which an erasure destroys)."""
_PERSONAL_DATA = SealedPersonalData.name.encode()
_ATOMS = frozenset((str, int, float, bool, bytes, type(None), UUID, date, datetime))
"""Exact types of immutable atoms (looked up by ``type(value)``: a subclass is checked as such)."""
_FROZEN_FIELDS: dict[type, tuple[str, ...] | None] = {}
KNOWN_IMMUTABLE = 16384
"""Frozen dataclass objects found immutable lately (by id, each kept alive while listed): a
record's successive snapshots hold mostly the same value objects, checked once."""
_KNOWN_IMMUTABLE: dict[int, Any] = {}
_SNAPSHOT_CLASSES: dict[type, bool] = {}


def _frozen_fields(kind: type) -> tuple[str, ...] | None:
    """The field names of a frozen dataclass type, None for any other type (memoised)."""
    try:
        return _FROZEN_FIELDS[kind]
    except KeyError:
        pass
    params = getattr(kind, "__dataclass_params__", None)
    names = _FROZEN_FIELDS[kind] = (
        tuple(f.name for f in dataclasses.fields(kind))
        if params is not None and params.frozen
        else None
    )
    return names


def _immutable(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is built of atoms, tuples and frozen dataclasses only (a few levels)."""
    kind = type(value)
    if kind in _ATOMS:
        return True
    if depth > 6:
        return False
    if kind is tuple or kind is frozenset:
        return all(_immutable(item, depth + 1) for item in value)
    names = _frozen_fields(kind)
    if names is None:
        return isinstance(value, (str, int, float, bytes, UUID, date))  # atoms' subclasses
    if _KNOWN_IMMUTABLE.get(id(value)) is value:
        return True
    if not all(_immutable(getattr(value, name), depth + 1) for name in names):
        return False
    if len(_KNOWN_IMMUTABLE) >= KNOWN_IMMUTABLE:
        _KNOWN_IMMUTABLE.clear()
    _KNOWN_IMMUTABLE[id(value)] = value  # kept, so that its id names no other object
    return True


def _is_snapshot(kind: type) -> bool:
    """``issubclass(kind, CanSnapshotAggregate)``, memoised: the Protocol check costs ~40 us."""
    found = _SNAPSHOT_CLASSES.get(kind)
    if found is None:
        found = _SNAPSHOT_CLASSES[kind] = issubclass(kind, CanSnapshotAggregate)
    return found


def _immutable_values(values: Any) -> bool:
    atoms = _ATOMS
    return all(type(value) in atoms or _immutable(value, 1) for value in values)


_NOT_SHAREABLE = None


def _sharing(event: Any) -> tuple[str, ...] | None:
    """How a decoded object may be handed out again, or None if it may not.

    An event qualifies if nothing in it can change. A snapshot qualifies if its state's values
    are immutable or are dicts or lists of immutable items (an aggregate's collections): those
    are named in the result and copied on every read, so no two aggregates share one.
    """
    kind = type(event)
    if _frozen_fields(kind) is None:
        return _NOT_SHAREABLE
    if not _is_snapshot(kind):
        return () if _immutable_values(vars(event).values()) else _NOT_SHAREABLE
    state = event.state
    if type(state) is not dict or not _immutable_values(
        value for name, value in vars(event).items() if name != "state"
    ):
        return _NOT_SHAREABLE
    copied = []
    for name, value in state.items():
        kind = type(value)
        if kind is dict:
            if not (_immutable_values(value) and _immutable_values(value.values())):
                return _NOT_SHAREABLE
            copied.append(name)
        elif kind is list:
            if not _immutable_values(value):
                return _NOT_SHAREABLE
            copied.append(name)
        elif kind not in _ATOMS and not _immutable(value, 1):
            return _NOT_SHAREABLE
    return tuple(copied)


class _Written:
    """One object this process wrote: its sealed bytes and how it may be shared."""

    __slots__ = ("decided", "event", "sharing", "state")

    def __init__(self, state: bytes, event: DomainEventProtocol[Any]) -> None:
        self.state = state
        self.event = event
        self.decided = False  # on the first read that finds it
        self.sharing: tuple[str, ...] | None = _NOT_SHAREABLE

    def read(self) -> DomainEventProtocol[Any] | None:
        """The object again (a fresh copy of a snapshot's collections), or None: decode it."""
        if not self.decided:
            self.sharing = _sharing(self.event)
            self.decided = True
        copied = self.sharing
        if copied is None:
            return None
        if not copied:
            return self.event
        event = copy.copy(self.event)
        state = dict(event.state)  # type: ignore[attr-defined]
        for name in copied:
            state[name] = type(state[name])(state[name])
        object.__setattr__(event, "state", state)
        return event


class EnvelopeMapper(Mapper[Any]):
    """Encrypts each payload under its stream's data key and seals personal data per person."""

    def __init__(
        self,
        transcoder: Transcoder,
        compressor: Compressor | None = None,
        cipher: Cipher | None = None,
    ) -> None:
        if not isinstance(cipher, EnvelopeCipher):
            raise TypeError(
                "EnvelopeMapper needs CIPHER_TOPIC=security.envelope:EnvelopeCipher, "
                f"not {type(cipher).__name__}"
            )
        # The base class must not run a cipher of its own: the envelope wraps its output.
        super().__init__(transcoder, compressor=compressor, cipher=None)
        self.envelope = cipher
        self.erasures = ErasureWatch(cipher.keys)
        if not isinstance(transcoder, JSONTranscoder):
            raise TypeError("EnvelopeMapper needs the JSONTranscoder to seal personal data")
        transcoder.register(SealedPersonalData(cipher.keys, self.erasures))
        self._recent: dict[tuple[Any, int, str], _Written] = {}
        self._recent_keys: dict[Any, list[tuple[Any, int, str]]] = {}  # by stream, as written
        self._encode = TaggedEncoder(transcoder).encode  # same bytes as transcoder.encode
        for name in MEMOISED_VALUES:
            found = transcoder.names.get(name)
            if found is not None:
                transcoder.names[name] = _MemoisedDecode(found)

    def to_stored_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        # The library's Mapper.to_stored_event, with the payload written by TaggedEncoder.
        kind = type(domain_event)
        topic = get_topic(kind)
        event_state = dict(vars(domain_event))
        stream_id = event_state.pop("originator_id")
        version = event_state.pop("originator_version")
        class_version = getattr(kind, "class_version", 1)
        if class_version > 1:
            event_state["class_version"] = class_version
        erasures = self.erasures
        erasures.begin_event()
        try:
            payload = self._encode(event_state)
        finally:
            erasures.end_event()
        shareable = _PERSONAL_DATA not in payload
        if self.compressor:
            payload = self.compressor.compress(payload)
        recorded_at = getattr(domain_event, "timestamp", None)
        if not isinstance(recorded_at, datetime):
            recorded_at = datetime.now(UTC)
        elif recorded_at.tzinfo is None:
            recorded_at = recorded_at.replace(tzinfo=UTC)
        state = self.envelope.seal(stream_id, version, topic, recorded_at, payload)
        recent = self._recent
        if _is_snapshot(kind):
            # A record is read from its latest snapshot on: what this one covers is not read
            # again by its commands (keeping it cost more, in the collector, than it saved).
            covered = self._recent_keys.pop(stream_id, None)
            if covered:
                for key in covered:
                    if key[1] <= version:
                        recent.pop(key, None)
        if shareable:
            if len(recent) >= RECENT_EVENTS:
                recent.clear()
                self._recent_keys.clear()
            key = (stream_id, version, topic)
            recent[key] = _Written(state, domain_event)
            self._recent_keys.setdefault(stream_id, []).append(key)
        return StoredEvent(
            originator_id=stream_id, originator_version=version, topic=topic, state=state
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[Any]:
        stream_id, version, topic = (
            stored_event.originator_id,
            stored_event.originator_version,
            stored_event.topic,
        )
        written = self._recent.get((stream_id, version, topic))
        if written is not None and written.state == stored_event.state:
            again = written.read()  # the very bytes this process sealed, for this object
            if again is not None:
                return again
        return self.decode_opened(self.open_stored(stored_event))

    def open_stored(self, stored_event: StoredEvent) -> StoredEvent:
        """The stored event with its payload decrypted (still JSON): raises IntegrityError."""
        stream_id, version, topic = (
            stored_event.originator_id,
            stored_event.originator_version,
            stored_event.topic,
        )
        return StoredEvent(
            originator_id=stream_id,
            originator_version=version,
            topic=topic,
            state=self.envelope.open(stream_id, version, topic, stored_event.state),
        )

    def decode_opened(self, clear: StoredEvent) -> DomainEventProtocol[Any]:
        """The domain event of a payload ``open_stored`` decrypted (personal data unsealed)."""
        try:
            with self.erasures.one_event():
                return super().to_domain_event(clear)
        except MapperDeserialisationError as error:
            if isinstance(error.__cause__, SealedDataIntegrityError):
                raise IntegrityError(
                    clear.originator_id,
                    clear.originator_version,
                    clear.topic,
                    str(error.__cause__),
                ) from None
            raise
