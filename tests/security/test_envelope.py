"""Stored events are sealed per stream: they round-trip, and any tampering fails loudly."""

from __future__ import annotations

import base64
import re
from datetime import UTC
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application

from domain.personal_data import PersonalData
from security.envelope import (
    HEADER_BYTES,
    EnvelopeFormatError,
    IntegrityError,
    read_header,
)
from security.keys import MasterKeyError
from tests.backends import Backend
from tests.security.envelope_fixtures import (
    ContactCards,
    close_contact_cards,
    overwrite_state,
    raw_storage_bytes,
    stored_rows,
    stored_state,
)

close_applications = pytest.fixture(autouse=True)(close_contact_cards)

ALICE = PersonalData(
    uuid4(), "Alice Quartermaine", "focal point", "alice@example.org", "+41 22 555"
)


def open_two_cards(app: ContactCards) -> tuple[UUID, UUID]:
    first = app.open_card(ALICE, "Women's rights monitoring in the north")
    app.add_note(first, "met in Juba")
    second = app.open_card(PersonalData(uuid4(), "Bob Okello"), "Radio programme")
    app.add_note(second, "second note")
    return first, second


def test_events_and_snapshots_round_trip(backend: Backend) -> None:
    app = ContactCards(env=backend.env())
    card_id, _ = open_two_cards(app)
    app.take_snapshot(card_id)
    app.add_note(card_id, "after the snapshot")

    again = ContactCards(env=backend.env())
    card = again.card(card_id)
    assert card.contact == ALICE
    assert card.notes == ["met in Juba", "after the snapshot"]
    assert again.card(card_id, version=1).notes == []


def test_header_names_the_stream_key_and_the_recorded_time(backend: Backend) -> None:
    app = ContactCards(env=backend.env())
    card_id, other_id = open_two_cards(app)
    created = app.card(card_id, version=1)
    header = read_header(stored_state(backend, card_id, 1))

    keys = app.mapper.envelope.keys  # type: ignore[attr-defined]
    assert header.format_version == 1
    assert header.key_id == keys.data_key_for_stream(card_id).key_id
    assert header.key_version == 1
    assert header.recorded_at == created.created_on.astimezone(UTC)
    assert len(header.nonce) == 12
    assert read_header(stored_state(backend, card_id, 2)).key_id == header.key_id
    assert read_header(stored_state(backend, other_id, 1)).key_id != header.key_id


def test_swapping_two_stored_payloads_makes_both_fail(backend: Backend) -> None:
    app = ContactCards(env=backend.env())
    first, second = open_two_cards(app)
    a, b = stored_state(backend, first, 2), stored_state(backend, second, 2)
    overwrite_state(backend, first, 2, b)
    overwrite_state(backend, second, 2, a)

    fresh = ContactCards(env=backend.env())
    for stream_id in (first, second):
        with pytest.raises(IntegrityError) as caught:
            fresh.card(stream_id)
        assert str(stream_id) in str(caught.value)
        assert "version 2" in str(caught.value)
        assert "ContactCard.Noted" in str(caught.value)


def test_moving_a_payload_to_another_version_of_its_stream_fails(backend: Backend) -> None:
    app = ContactCards(env=backend.env())
    first, _ = open_two_cards(app)
    overwrite_state(backend, first, 2, stored_state(backend, first, 1))

    with pytest.raises(IntegrityError, match="version 2"):
        ContactCards(env=backend.env()).card(first)


@pytest.mark.parametrize("offset", [0, 3, 20, 30, 40, HEADER_BYTES, -1])
def test_altering_one_byte_fails(backend: Backend, offset: int) -> None:
    app = ContactCards(env=backend.env())
    first, _ = open_two_cards(app)
    state = bytearray(stored_state(backend, first, 1))
    state[offset] ^= 0x01
    overwrite_state(backend, first, 1, bytes(state))

    with pytest.raises(IntegrityError, match=re.escape(str(first))):
        ContactCards(env=backend.env()).card(first)


def test_stream_ids_topics_and_files_contain_no_personal_data(backend: Backend) -> None:
    app = ContactCards(env=backend.env())
    card_id, _ = open_two_cards(app)
    app.take_snapshot(card_id)

    for stream_id, _, topic in stored_rows(backend):
        UUID(stream_id)  # ids are random UUIDs
        assert re.fullmatch(r"[\w.]+:[\w.]+", topic)
        assert "Alice" not in topic
        assert "Quartermaine" not in topic
    raw = raw_storage_bytes(backend)
    for secret in (
        "Quartermaine",
        "alice@example.org",
        "+41 22 555",
        "Okello",
        "Juba",
        "Women's rights monitoring",
    ):
        assert secret.encode() not in raw


def test_read_header_rejects_what_is_not_an_envelope() -> None:
    with pytest.raises(EnvelopeFormatError):
        read_header(b"PR\x01short")
    with pytest.raises(EnvelopeFormatError):
        read_header(b"XX" + bytes(60))


def test_missing_master_key_is_a_one_line_error_naming_the_setting(backend: Backend) -> None:
    env = backend.env()
    env["REGISTRY_MASTER_KEY"] = ""
    with pytest.raises(MasterKeyError) as caught:
        Application(env=env)
    assert "REGISTRY_MASTER_KEY" in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"too short").decode()])
def test_bad_master_key_is_a_one_line_error_naming_the_setting(
    backend: Backend, value: str
) -> None:
    env = backend.env()
    env["REGISTRY_MASTER_KEY"] = value
    with pytest.raises(MasterKeyError) as caught:
        Application(env=env)
    assert str(caught.value).startswith("REGISTRY_MASTER_KEY")
    assert "\n" not in str(caught.value)


def test_another_master_key_cannot_read_the_events(backend: Backend) -> None:
    card_id, _ = open_two_cards(ContactCards(env=backend.env()))
    other = backend.env()
    other["REGISTRY_MASTER_KEY"] = base64.b64encode(bytes(range(32))).decode()
    with pytest.raises(MasterKeyError, match="REGISTRY_MASTER_KEY"):
        ContactCards(env=other).card(card_id)


def test_the_cipher_refuses_payloads_without_their_stream(backend: Backend) -> None:
    app = ContactCards(env=backend.env())
    with pytest.raises(TypeError, match="EnvelopeMapper"):
        app.mapper.envelope.encrypt(b"x")  # type: ignore[attr-defined]
