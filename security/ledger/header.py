"""Read the key id and recorded time from the 43-byte plaintext header of a stored payload.

Parses the layout documented in docs/design.md itself (as `leaf.prefixed_leaf_hash` and
`scan.check_range` slice it), so the ledger has one reading of the format; a test checks it
against `security.envelope`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

MAGIC = b"PR"
FORMAT_VERSION = 1
HEADER_SIZE = 43
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAYOUT = struct.Struct(">2sB16sIq12s")  # magic, format, key id, key version, micros, nonce


@dataclass(frozen=True)
class PayloadHeader:
    """What the ledger commits to from a payload header: never the key itself."""

    key_id: UUID
    recorded_at_us: int

    @property
    def recorded_at(self) -> datetime:
        return _EPOCH + timedelta(microseconds=self.recorded_at_us)


def read_payload_header(state: bytes) -> PayloadHeader | None:
    """The header of an enveloped payload, or None when `state` carries no version-1 header
    (then the leaf commits to empty key id and recorded time fields)."""
    if len(state) < HEADER_SIZE:
        return None
    magic, version, key_id, _key_version, micros, _nonce = _LAYOUT.unpack_from(state)
    if magic != MAGIC or version != FORMAT_VERSION:
        return None
    return PayloadHeader(key_id=UUID(bytes=key_id), recorded_at_us=micros)
