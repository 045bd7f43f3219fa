"""Seals each PersonalData value under its person's own key; reads it as erased once destroyed."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Transcoding

from domain.personal_data import PersonalData
from security.keys import KeyStore
from security.keys.store import PERSON

NONCE_BYTES = 12


class SealedDataIntegrityError(ValueError):
    """A sealed PersonalData value was altered, moved to another person, or its key is unknown."""


class ErasureWatch:
    """Reads the store's erasure counter at most once per event mapped on this thread.

    Outside an event (``one_event``), every decode looks, so nothing is read with a stale cache.
    """

    def __init__(self, keys: KeyStore) -> None:
        self._keys = keys
        self._local = threading.local()

    @contextmanager
    def one_event(self) -> Iterator[None]:
        self.begin_event()
        try:
            yield
        finally:
            self.end_event()

    def begin_event(self) -> None:
        """``one_event`` without the context manager (the write path's per-event cost)."""
        local = self._local
        local.in_event = True
        local.noticed = False

    def end_event(self) -> None:
        self._local.in_event = False

    def notice(self) -> None:
        if getattr(self._local, "in_event", False) and getattr(self._local, "noticed", False):
            return
        self._keys.notice_erasures()
        self._local.noticed = True


class SealedPersonalData(Transcoding):
    """Stores person id, key id and version, nonce, ciphertext; AES-256-GCM, AAD = person || key."""

    type = PersonalData
    name = "personal_data_sealed"

    def __init__(self, keys: KeyStore, watch: ErasureWatch) -> None:
        self._keys = keys
        self._watch = watch

    def encode(self, obj: PersonalData) -> dict[str, Any]:
        if obj.erased:
            return {"person_id": obj.person_id.hex, "erased": True}
        self._watch.notice()
        key = self._keys.person_key(obj.person_id)
        if key.secret is None:
            # The person was erased: their details are not stored again, under any key.
            return {"person_id": obj.person_id.hex, "erased": True}
        plaintext = json.dumps(
            {"name": obj.name, "role": obj.role, "email": obj.email, "phone": obj.phone},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(key.secret).encrypt(nonce, plaintext, _aad(obj.person_id, key.key_id))
        return {
            "person_id": obj.person_id.hex,
            "key_id": key.key_id.hex,
            "key_version": key.version,
            "nonce": base64.b64encode(nonce).decode(),
            "ciphertext": base64.b64encode(sealed).decode(),
        }

    def decode(self, data: dict[str, Any]) -> PersonalData:
        person_id = UUID(data["person_id"])
        if data.get("erased"):
            return PersonalData.erased_for(person_id)
        self._watch.notice()
        key_id = UUID(data["key_id"])
        key = self._keys.key_by_id(key_id)
        if key is None:
            raise SealedDataIntegrityError(f"personal data sealed under unknown key {key_id}")
        if key.purpose != PERSON or key.subject != str(person_id):
            raise SealedDataIntegrityError(f"key {key_id} is not the key of person {person_id}")
        if key.secret is None:
            return PersonalData.erased_for(person_id)
        if data.get("key_version", key.version) != key.version:
            raise SealedDataIntegrityError(
                f"personal data of person {person_id} names key version {data['key_version']}, "
                f"the key store holds version {key.version}"
            )
        try:
            plaintext = AESGCM(key.secret).decrypt(
                base64.b64decode(data["nonce"]),
                base64.b64decode(data["ciphertext"]),
                _aad(person_id, key_id),
            )
        except InvalidTag:
            raise SealedDataIntegrityError(
                f"personal data of person {person_id} failed its integrity check"
            ) from None
        fields = json.loads(plaintext)
        return PersonalData(person_id=person_id, **fields)


def _aad(person_id: UUID, key_id: UUID) -> bytes:
    return person_id.bytes + key_id.bytes
