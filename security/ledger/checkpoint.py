"""Ed25519-signed ledger checkpoints in the C2SP tlog-checkpoint / signed-note text form.

A checkpoint reads: origin line, tree size line, base64 root hash line, a blank line, then
"— <key name> <base64(key id (4 bytes) || Ed25519 signature)>". The signature covers the three
body lines including their newlines. Key id = SHA-256(name || 0x0A || 0x01 || public key)[:4].
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

DEFAULT_ORIGIN = "partnership-registry/ledger"
DEV_SIGNING_KEY_FILE = Path("var/ledger-signing.key")
SIGNATURE_PREFIX = "\u2014 "  # em dash and space, as C2SP signed-note requires
_ED25519 = b"\x01"  # signed-note signature type byte for Ed25519


class CheckpointError(ValueError):
    """A checkpoint is malformed, badly signed, or its signing key is not configured."""


@dataclass(frozen=True)
class Checkpoint:
    """A parsed checkpoint: what the log claims (origin, size, root) and the signed text."""

    origin: str
    tree_size: int
    root_hash: bytes
    text: str

    @property
    def body(self) -> str:
        return checkpoint_body(self.origin, self.tree_size, self.root_hash)


def checkpoint_body(origin: str, tree_size: int, root_hash: bytes) -> str:
    return f"{origin}\n{tree_size}\n{base64.b64encode(root_hash).decode()}\n"


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + public_key).digest()[:4]


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


class CheckpointSigner:
    """Signs checkpoints for one origin with one Ed25519 key."""

    def __init__(self, private_key: Ed25519PrivateKey, origin: str = DEFAULT_ORIGIN) -> None:
        if not origin or "\n" in origin or " " in origin or "+" in origin:
            raise CheckpointError(f"checkpoint origin {origin!r} must be one word without '+'")
        self.private_key = private_key
        self.origin = origin

    @property
    def public_key(self) -> bytes:
        return _raw_public(self.private_key.public_key())

    def verifier_key(self) -> str:
        """The signed-note verifier key, `<name>+<hex key id>+<base64(0x01 || public key)>`."""
        encoded = base64.b64encode(_ED25519 + self.public_key).decode()
        return f"{self.origin}+{key_id(self.origin, self.public_key).hex()}+{encoded}"

    def sign(self, tree_size: int, root_hash: bytes) -> Checkpoint:
        body = checkpoint_body(self.origin, tree_size, root_hash)
        signature = self.private_key.sign(body.encode())
        blob = base64.b64encode(key_id(self.origin, self.public_key) + signature).decode()
        text = f"{body}\n{SIGNATURE_PREFIX}{self.origin} {blob}\n"
        return Checkpoint(self.origin, tree_size, root_hash, text)


def parse_checkpoint(text: str) -> Checkpoint:
    """The checkpoint's claims, without checking the signature (see `verify_checkpoint`)."""
    body, sep, _signatures = text.partition("\n\n")
    lines = body.split("\n")
    if not sep or len(lines) < 3:
        raise CheckpointError(
            "not a checkpoint: expected origin, size, root, a blank line, signatures"
        )
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise CheckpointError(f"checkpoint tree size {size_text!r} is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error as error:
        raise CheckpointError("checkpoint root hash is not base64") from error
    if len(root) != 32:
        raise CheckpointError(f"checkpoint root hash has {len(root)} bytes, not 32")
    return Checkpoint(origin, int(size_text), root, text)


def parse_public_key(text: str) -> tuple[str | None, bytes]:
    """A verifier key (`name+keyid+base64`) or a bare base64 32-byte Ed25519 public key."""
    text = text.strip()
    if len(text) == 44:
        # A bare base64 key is 44 characters; a verifier key is always longer.
        raw = _b64(text, "public key")
        if len(raw) == 32:
            return None, raw
    parts = text.split("+", 2)
    if len(parts) == 3 and len(parts[1]) == 8:
        name, _key_hex, encoded = parts
        raw = _b64(encoded, "verifier key")
        if len(raw) != 33 or raw[:1] != _ED25519:
            raise CheckpointError("verifier key is not an Ed25519 signed-note key")
        return name, raw[1:]
    raw = _b64(text, "public key")
    if len(raw) != 32:
        raise CheckpointError(f"Ed25519 public key must be 32 bytes, not {len(raw)}")
    return None, raw


def verify_checkpoint(text: str, public_key: str | bytes) -> Checkpoint:
    """Parse a checkpoint and check an Ed25519 signature on it by this key; raise if none."""
    checkpoint = parse_checkpoint(text)
    name, raw = (
        (None, public_key) if isinstance(public_key, bytes) else parse_public_key(public_key)
    )
    name = name or checkpoint.origin
    if name != checkpoint.origin:
        raise CheckpointError(
            f"key is for origin {name!r}, checkpoint is from {checkpoint.origin!r}"
        )
    wanted_id = key_id(name, raw)
    verifier = Ed25519PublicKey.from_public_bytes(raw)
    _body, _sep, signatures = text.partition("\n\n")
    for line in signatures.split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            continue
        signer, _space, blob_text = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            blob = base64.b64decode(blob_text, validate=True)
        except binascii.Error:
            continue
        if signer != name or blob[:4] != wanted_id:
            continue
        try:
            verifier.verify(blob[4:], checkpoint.body.encode())
        except InvalidSignature as error:
            raise CheckpointError("checkpoint signature does not verify with this key") from error
        return checkpoint
    raise CheckpointError("checkpoint carries no signature by this key")


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except binascii.Error as error:
        raise CheckpointError(f"{what} is not valid base64") from error


def load_signer(
    environ: Mapping[str, str] | None = None,
    *,
    development: bool | None = None,
    dev_key_file: Path = DEV_SIGNING_KEY_FILE,
) -> CheckpointSigner:
    """The checkpoint signer from REGISTRY_LEDGER_SIGNING_KEY (base64 of the raw 32-byte
    Ed25519 private key) or REGISTRY_LEDGER_SIGNING_KEY_FILE; outside production a development
    key is generated into var/ on first use. Origin: REGISTRY_LEDGER_ORIGIN.
    """
    env = os.environ if environ is None else environ
    origin = env.get("REGISTRY_LEDGER_ORIGIN", DEFAULT_ORIGIN)
    if development is None:
        development = env.get("REGISTRY_ENV", "development") != "production"
    text = env.get("REGISTRY_LEDGER_SIGNING_KEY")
    setting = "REGISTRY_LEDGER_SIGNING_KEY"
    if not text and env.get("REGISTRY_LEDGER_SIGNING_KEY_FILE"):
        setting = "REGISTRY_LEDGER_SIGNING_KEY_FILE"
        path = Path(env["REGISTRY_LEDGER_SIGNING_KEY_FILE"])
        try:
            text = path.read_text().strip()
        except OSError as error:
            raise CheckpointError(f"{setting}: cannot read {path}: {error.strerror}") from error
    if not text:
        if not development:
            raise CheckpointError(
                "REGISTRY_LEDGER_SIGNING_KEY (or _FILE) is required when REGISTRY_ENV=production"
            )
        setting = str(dev_key_file)
        if dev_key_file.exists():
            text = dev_key_file.read_text().strip()
        else:
            text = base64.b64encode(secrets.token_bytes(32)).decode()
            dev_key_file.parent.mkdir(parents=True, exist_ok=True)
            dev_key_file.write_text(text + "\n")
            dev_key_file.chmod(0o600)
    raw = _b64(text, setting)
    if len(raw) != 32:
        raise CheckpointError(f"{setting}: the signing key must be 32 bytes, not {len(raw)}")
    return CheckpointSigner(Ed25519PrivateKey.from_private_bytes(raw), origin)
