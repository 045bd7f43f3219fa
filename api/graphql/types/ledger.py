"""The audit ledger over GraphQL: signed checkpoints and the proofs an auditor checks offline.

Hashes are lowercase hex. ``json`` is the proof exactly as ``registry verify-proof --proof``
reads it; ``checkpoint.note`` is the signed text for ``--checkpoint``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from api.graphql import ids
from api.views import ProvenConsistency, ProvenInclusion
from security.ledger import StoredCheckpoint, to_json


@strawberry.type
class Checkpoint:
    tree_size: int
    root_hash: str = strawberry.field(description="hex SHA-256 Merkle root of tree_size leaves")
    note: str = strawberry.field(description="the signed checkpoint text (a signed note)")
    created_at: datetime
    verifier_key: str | None = strawberry.field(
        description="this server's verifier key (name+id+key); get it out of band to trust it"
    )

    @classmethod
    def from_stored(cls, stored: StoredCheckpoint, verifier_key: str | None) -> Checkpoint:
        return cls(
            tree_size=stored.tree_size,
            root_hash=stored.root_hash.hex(),
            note=stored.note,
            created_at=datetime.fromtimestamp(stored.created_at_us / 1_000_000, tz=UTC),
            verifier_key=verifier_key,
        )


@strawberry.type
class LedgerEvent:
    event_id: strawberry.ID
    stream_id: str
    version: int
    notification_id: int | None


@strawberry.type
class InclusionProof:
    leaf_index: int
    tree_size: int
    leaf_hash: str
    path: list[str]
    event: LedgerEvent | None
    checkpoint: Checkpoint = strawberry.field(description="the checkpoint the proof verifies to")
    json: str = strawberry.field(description="the proof as `registry verify-proof` reads it")

    @classmethod
    def from_proven(cls, proven: ProvenInclusion, verifier_key: str | None) -> InclusionProof:
        proof = proven.proof
        event = None
        if proof.stream_id is not None and proof.version is not None:
            event = LedgerEvent(
                event_id=strawberry.ID(ids.event_id(proof.stream_id, proof.version)),
                stream_id=proof.stream_id,
                version=proof.version,
                notification_id=proof.notification_id,
            )
        return cls(
            leaf_index=proof.leaf_index,
            tree_size=proof.tree_size,
            leaf_hash=proof.leaf_hash.hex(),
            path=[p.hex() for p in proof.path],
            event=event,
            checkpoint=Checkpoint.from_stored(proven.checkpoint, verifier_key),
            json=to_json(proof),
        )


@strawberry.type
class ConsistencyProof:
    old_size: int
    old_root: str
    new_size: int
    new_root: str
    path: list[str]
    checkpoint: Checkpoint | None = strawberry.field(
        description="the signed checkpoint of new_size (null when none was signed at that size)"
    )
    json: str = strawberry.field(description="the proof as `registry verify-proof` reads it")

    @classmethod
    def from_proven(cls, proven: ProvenConsistency, verifier_key: str | None) -> ConsistencyProof:
        proof = proven.proof
        return cls(
            old_size=proof.old_size,
            old_root=proof.old_root.hex(),
            new_size=proof.new_size,
            new_root=proof.new_root.hex(),
            path=[p.hex() for p in proof.path],
            checkpoint=None
            if proven.checkpoint is None
            else Checkpoint.from_stored(proven.checkpoint, verifier_key),
            json=to_json(proof),
        )
