"""Properties of the envelope: any payload round-trips; any single flipped byte is rejected."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from security.envelope import HEADER_BYTES, EnvelopeCipher, IntegrityError
from security.keys import KeyStore
from security.keys.sqlite import SQLiteKeyStore

TOPIC = "tests.security:Something.Happened"


class InMemoryEnvelope(EnvelopeCipher):
    """The real cipher over an in-memory SQLite key store (no environment needed)."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys


@pytest.fixture(scope="module")
def envelope() -> InMemoryEnvelope:
    return InMemoryEnvelope(SQLiteKeyStore(secrets.token_bytes(32), None))


STREAM = uuid4()


def seal(envelope: InMemoryEnvelope, stream_id: UUID, version: int, payload: bytes) -> bytes:
    return envelope.seal(stream_id, version, TOPIC, datetime.now(UTC), payload)


@settings(max_examples=200, deadline=None)
@given(payload=st.binary(max_size=2048), version=st.integers(min_value=1, max_value=2**40))
def test_any_payload_round_trips(envelope: InMemoryEnvelope, payload: bytes, version: int) -> None:
    state = seal(envelope, STREAM, version, payload)
    assert envelope.open(STREAM, version, TOPIC, state) == payload


@settings(max_examples=300, deadline=None)
@given(payload=st.binary(max_size=512), data=st.data())
def test_any_single_byte_flip_is_rejected(
    envelope: InMemoryEnvelope, payload: bytes, data: st.DataObject
) -> None:
    state = bytearray(seal(envelope, STREAM, 3, payload))
    position = data.draw(st.integers(min_value=0, max_value=len(state) - 1))
    state[position] ^= data.draw(st.integers(min_value=1, max_value=255))
    with pytest.raises(IntegrityError, match=str(STREAM)):
        envelope.open(STREAM, 3, TOPIC, bytes(state))


@settings(max_examples=50, deadline=None)
@given(payload=st.binary(max_size=256), version=st.integers(min_value=1, max_value=1000))
def test_a_payload_opens_only_at_its_own_place(
    envelope: InMemoryEnvelope, payload: bytes, version: int
) -> None:
    state = seal(envelope, STREAM, version, payload)
    for stream_id, at, topic in (
        (STREAM, version + 1, TOPIC),
        (STREAM, version, TOPIC + "X"),
        (uuid4(), version, TOPIC),
    ):
        with pytest.raises(IntegrityError):
            envelope.open(stream_id, at, topic, state)
    assert len(state) == HEADER_BYTES + len(payload) + 16
