"""The master key (key-encryption key): reading it, naming it, wrapping keys with it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MASTER_KEY_SETTING = "REGISTRY_MASTER_KEY"
KEY_BYTES = 32
NONCE_BYTES = 12


class MasterKeyError(ValueError):
    """The master key is missing, malformed or not the one the keys were wrapped under."""


def master_key_id(key: bytes) -> str:
    """Public name of a master key: the first 16 hex digits of SHA-256(label || key)."""
    return hashlib.sha256(b"registry-master-key-id" + key).hexdigest()[:16]


def decode_master_key(text: str | None, setting: str = MASTER_KEY_SETTING) -> bytes:
    """The 32 key bytes from base64 text, or a one-line error naming the setting."""
    if not text:
        raise MasterKeyError(f"{setting} is not set: give it base64 of 32 random bytes")
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyError(f"{setting} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise MasterKeyError(f"{setting} must decode to {KEY_BYTES} bytes, not {len(key)}")
    return key


def master_key_from_environment(env: Mapping[str, str]) -> bytes:
    """The master key named by REGISTRY_MASTER_KEY in a library Environment or os.environ."""
    return decode_master_key(env.get(MASTER_KEY_SETTING), MASTER_KEY_SETTING)


def new_secret() -> bytes:
    """A fresh 256-bit AES key."""
    return os.urandom(KEY_BYTES)


def wrapping_aad(key_id: UUID, purpose: str, subject: str, version: int) -> bytes:
    """Associated data binding a wrapped key to its id, purpose, subject and version."""
    return b"\x00".join(
        (
            b"registry-key",
            key_id.bytes,
            purpose.encode(),
            subject.encode(),
            version.to_bytes(4, "big"),
        )
    )


def wrap(master: bytes, secret: bytes, aad: bytes) -> tuple[bytes, bytes]:
    """(nonce, AES-256-GCM ciphertext with tag) of a data or person key under the master key."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce, AESGCM(master).encrypt(nonce, secret, aad)


def unwrap(master: bytes, nonce: bytes, wrapped: bytes, aad: bytes) -> bytes:
    """The key bytes, or MasterKeyError when the master key or the row does not match."""
    try:
        return AESGCM(master).decrypt(nonce, wrapped, aad)
    except InvalidTag:
        raise MasterKeyError(
            f"a key could not be unwrapped with master key {master_key_id(master)} "
            "(wrong master key, or the key row was altered)"
        ) from None
