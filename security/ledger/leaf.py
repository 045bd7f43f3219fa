"""The ledger leaf: a canonical byte encoding of one stored event, and its RFC 9162 leaf hash.

Encoding (version 1): the tag b"registry-ledger-leaf/1", then seven fields, each as a 4-byte
big-endian length followed by that many bytes, in this order:
  1. stream id: the originator id as text (UUID in canonical hyphenated lower-case form), UTF-8
  2. version: 8-byte big-endian signed integer
  3. event type: the stored topic, UTF-8
  4. recorded time: 8-byte big-endian signed microseconds since the Unix epoch (empty: no header)
  5. key id: the 16 UUID bytes of the data key (empty: payload has no envelope header)
  6. SHA-256 of the stored payload bytes exactly as stored (32 bytes)
  7. previous leaf hash of the same stream (32 bytes; empty for the stream's first leaf)
Length prefixes make the encoding injective, so two different events never share a leaf.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from uuid import UUID

from security.ledger.header import read_payload_header
from security.ledger.scan import LEAF_TAG as LEAF_TAG  # the encoding's parts live in scan.py
from security.ledger.scan import leaf_prefix as leaf_prefix
from security.ledger.scan import topic_field as topic_field

_LEN = struct.Struct(">I")
_INT64 = struct.Struct(">q")


@dataclass(frozen=True)
class Leaf:
    """One event as the ledger sees it; `leaf_hash` is what enters the Merkle tree."""

    stream_id: str
    version: int
    topic: str
    recorded_at_us: int | None
    key_id: UUID | None
    payload_sha256: bytes
    prev_stream_leaf_hash: bytes | None

    def encode(self) -> bytes:
        return encode_leaf(
            self.stream_id,
            self.version,
            self.topic,
            self.recorded_at_us,
            self.key_id,
            self.payload_sha256,
            self.prev_stream_leaf_hash,
        )

    @property
    def leaf_hash(self) -> bytes:
        return hashlib.sha256(b"\x00" + self.encode()).digest()


def encode_leaf(
    stream_id: str,
    version: int,
    topic: str,
    recorded_at_us: int | None,
    key_id: UUID | None,
    payload_sha256: bytes,
    prev_stream_leaf_hash: bytes | None,
) -> bytes:
    fields = (
        stream_id.encode(),
        _INT64.pack(version),
        topic.encode(),
        b"" if recorded_at_us is None else _INT64.pack(recorded_at_us),
        b"" if key_id is None else key_id.bytes,
        payload_sha256,
        prev_stream_leaf_hash or b"",
    )
    return LEAF_TAG + b"".join(_LEN.pack(len(field)) + field for field in fields)


def leaf_for_event(
    stream_id: UUID | str, version: int, topic: str, state: bytes, prev: bytes | None
) -> Leaf:
    """The leaf of a stored event, from its stored bytes only (never decrypted)."""
    header = read_payload_header(state)
    return Leaf(
        stream_id=str(stream_id),
        version=version,
        topic=topic,
        recorded_at_us=None if header is None else header.recorded_at_us,
        key_id=None if header is None else header.key_id,
        payload_sha256=hashlib.sha256(state).digest(),
        prev_stream_leaf_hash=prev,
    )


_L0 = _LEN.pack(0)
_L8 = _LEN.pack(8)
_L16 = _LEN.pack(16)
_L32 = _LEN.pack(32)
_HEADER_V1 = b"PR\x01"
_sha256 = hashlib.sha256


def fast_leaf_hash(
    stream_id: str, version: int, topic: str, state: bytes, prev: bytes | None
) -> bytes:
    """`leaf_for_event(...).leaf_hash` without building objects."""
    return prefixed_leaf_hash(leaf_prefix(stream_id), version, topic_field(topic), state, prev)


def prefixed_leaf_hash(
    prefix: bytes, version: int, topic: bytes, state: bytes, prev: bytes | None
) -> bytes:
    """The leaf hash from a cached `leaf_prefix` and `topic_field` (verify's sequential walk;
    its fast check, `scan.check_range`, inlines the same encoding).

    The header's recorded time is already an 8-byte big-endian int64, so it is sliced, not parsed.
    """
    if len(state) >= 43 and state[:3] == _HEADER_V1:
        header = _L8 + state[23:31] + _L16 + state[3:19]
    else:
        header = _L0 + _L0
    return _sha256(
        prefix
        + _L8
        + _INT64.pack(version)
        + topic
        + header
        + _L32
        + _sha256(state).digest()
        + (_L32 + prev if prev else _L0)
    ).digest()
