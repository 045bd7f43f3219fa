"""Proof objects and their JSON form, as served to auditors (REST, GraphQL) and checked offline.

Inclusion: {"type": "inclusion", "leaf_index", "tree_size", "leaf_hash", "path": [...]}.
Consistency: {"type": "consistency", "old_size", "old_root", "new_size", "new_root", "path"}.
Hashes are hex; a root is only trusted once a signed checkpoint vouches for it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class ProofFormatError(ValueError):
    """The proof JSON does not have the documented shape."""


@dataclass(frozen=True)
class InclusionProof:
    """Leaf `leaf_index` (with `leaf_hash`) is in the tree of `tree_size` leaves."""

    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    path: tuple[bytes, ...]
    stream_id: str | None = None
    version: int | None = None
    notification_id: int | None = None

    def to_json_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "inclusion",
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "leaf_hash": self.leaf_hash.hex(),
            "path": [p.hex() for p in self.path],
        }
        if self.stream_id is not None:
            out["event"] = {
                "stream_id": self.stream_id,
                "version": self.version,
                "notification_id": self.notification_id,
            }
        return out


@dataclass(frozen=True)
class ConsistencyProof:
    """The tree of `old_size` leaves is a prefix of the tree of `new_size` leaves."""

    old_size: int
    old_root: bytes
    new_size: int
    new_root: bytes
    path: tuple[bytes, ...]

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "type": "consistency",
            "old_size": self.old_size,
            "old_root": self.old_root.hex(),
            "new_size": self.new_size,
            "new_root": self.new_root.hex(),
            "path": [p.hex() for p in self.path],
        }


def to_json(proof: InclusionProof | ConsistencyProof) -> str:
    return json.dumps(proof.to_json_dict(), indent=2)


def _int(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProofFormatError(f"proof field {key!r} must be a non-negative integer")
    return value


def _hash(value: object, key: str) -> bytes:
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ProofFormatError(f"proof field {key!r} must hold 32-byte hex hashes")
    return raw


def parse_proof(text: str) -> InclusionProof | ConsistencyProof:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ProofFormatError(f"proof is not JSON: {error.msg}") from error
    if not isinstance(data, dict):
        raise ProofFormatError("proof must be a JSON object")
    path = data.get("path")
    if not isinstance(path, list):
        raise ProofFormatError("proof field 'path' must be a list of hex hashes")
    hashes = tuple(_hash(p, "path") for p in path)
    if data.get("type") == "inclusion":
        return InclusionProof(
            _int(data, "leaf_index"),
            _int(data, "tree_size"),
            _hash(data.get("leaf_hash"), "leaf_hash"),
            hashes,
        )
    if data.get("type") == "consistency":
        return ConsistencyProof(
            _int(data, "old_size"),
            _hash(data.get("old_root"), "old_root"),
            _int(data, "new_size"),
            _hash(data.get("new_root"), "new_root"),
            hashes,
        )
    raise ProofFormatError("proof field 'type' must be 'inclusion' or 'consistency'")
