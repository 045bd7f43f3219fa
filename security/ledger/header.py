"""Read the key id and recorded time from the 43-byte plaintext header of a stored payload.

Uses `security.envelope.read_header` when that module exists; otherwise parses the documented
layout (docs/design.md) itself. Payloads without the header (not enveloped) yield None.
"""

from __future__ import annotations

import importlib
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

MAGIC = b"PR"
HEADER_SIZE = 43
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAYOUT = struct.Struct(">2sB16sIq12s")


@dataclass(frozen=True)
class PayloadHeader:
    """What the ledger commits to from a payload header: never the key itself."""

    key_id: UUID
    recorded_at_us: int

    @property
    def recorded_at(self) -> datetime:
        return _EPOCH + timedelta(microseconds=self.recorded_at_us)


def _envelope_reader() -> Any:
    try:
        module = importlib.import_module("security.envelope")
    except ImportError:
        return None
    return getattr(module, "read_header", None)


def read_payload_header(state: bytes) -> PayloadHeader | None:
    """The header of an enveloped payload, or None when `state` carries no version-1 header."""
    if len(state) < HEADER_SIZE or state[:2] != MAGIC:
        return None
    reader = _READER
    if reader is not None:
        try:
            found = reader(state)
        except Exception:  # a malformed header is committed to as "no header"
            return None
        micros = (found.recorded_at - _EPOCH) // timedelta(microseconds=1)
        return PayloadHeader(key_id=found.key_id, recorded_at_us=micros)
    _magic, version, key_id, _key_version, micros, _nonce = _LAYOUT.unpack_from(state)
    if version != 1:
        return None
    return PayloadHeader(key_id=UUID(bytes=key_id), recorded_at_us=micros)


_READER = _envelope_reader()
