"""Envelope encryption of stored events: AES-256-GCM under each stream's data key (docs/design.md).

The library builds ``EnvelopeCipher`` (CIPHER_TOPIC) and ``EnvelopeMapper`` (MAPPER_TOPIC).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    Cipher,
    Compressor,
    JSONTranscoder,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import Environment

from security.keys import KeyStore, open_key_store
from security.keys.store import STREAM
from security.personal_data_sealing import (
    ErasureWatch,
    SealedDataIntegrityError,
    SealedPersonalData,
)

MAGIC = b"PR"
FORMAT_VERSION = 1
NONCE_BYTES = 12
HEADER = struct.Struct(">2sB16sIq12s")  # magic, format, key id, key version, micros, nonce
HEADER_BYTES = HEADER.size  # 43
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
        self.keys: KeyStore = open_key_store(environment)

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
        key = self.keys.data_key_for_stream(str(stream_id))
        assert key.secret is not None  # stream keys are never destroyed
        header = EnvelopeHeader(
            FORMAT_VERSION, key.key_id, key.version, recorded_at, os.urandom(NONCE_BYTES)
        ).to_bytes()
        aad = associated_data(header, stream_id, version, topic)
        return header + AESGCM(key.secret).encrypt(header[-NONCE_BYTES:], plaintext, aad)

    def open(self, stream_id: object, version: int, topic: str, state: bytes) -> bytes:
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
        aad = associated_data(state[:HEADER_BYTES], stream_id, version, topic)
        try:
            return AESGCM(key.secret).decrypt(header.nonce, state[HEADER_BYTES:], aad)
        except InvalidTag:
            raise IntegrityError(
                stream_id, version, topic, "the payload was altered or belongs elsewhere"
            ) from None


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

    def to_stored_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        with self.erasures.one_event():
            clear = super().to_stored_event(domain_event)
        recorded_at = getattr(domain_event, "timestamp", None)
        if not isinstance(recorded_at, datetime):
            recorded_at = datetime.now(UTC)
        elif recorded_at.tzinfo is None:
            recorded_at = recorded_at.replace(tzinfo=UTC)
        return StoredEvent(
            originator_id=clear.originator_id,
            originator_version=clear.originator_version,
            topic=clear.topic,
            state=self.envelope.seal(
                clear.originator_id, clear.originator_version, clear.topic, recorded_at,
                clear.state,
            ),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[Any]:
        stream_id, version, topic = (
            stored_event.originator_id,
            stored_event.originator_version,
            stored_event.topic,
        )
        clear = StoredEvent(
            originator_id=stream_id,
            originator_version=version,
            topic=topic,
            state=self.envelope.open(stream_id, version, topic, stored_event.state),
        )
        try:
            with self.erasures.one_event():
                return super().to_domain_event(clear)
        except MapperDeserialisationError as error:
            if isinstance(error.__cause__, SealedDataIntegrityError):
                raise IntegrityError(stream_id, version, topic, str(error.__cause__)) from None
            raise
