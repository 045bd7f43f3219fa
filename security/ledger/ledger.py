"""The audit ledger's entry point for the CLI and the API: integrate, checkpoint, prove."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from uuid import UUID

from security.ledger.checkpoint import CheckpointSigner
from security.ledger.integrator import Integrator
from security.ledger.merkle import ProofError, consistency_proof, inclusion_proof, tree_head
from security.ledger.proofs import ConsistencyProof, InclusionProof
from security.ledger.store import DEFAULT_APPLICATION_NAME, LedgerStore, StoredCheckpoint


class EventNotInLedgerError(LookupError):
    """The event is unknown, or not integrated into the ledger yet."""


class AuditLedger:
    """An RFC 9162 Merkle tree over the application's stored events, on the same database.

    `env` is the library env (PERSISTENCE_MODULE and SQLITE_* / POSTGRES_*); mapper and cipher
    settings are ignored: the ledger reads stored bytes and holds no data keys.
    """

    def __init__(
        self,
        env: Mapping[str, str],
        signer: CheckpointSigner | None = None,
        *,
        application_name: str = DEFAULT_APPLICATION_NAME,
        batch_size: int = 2000,
    ) -> None:
        self.store = LedgerStore(env, application_name=application_name)
        self.signer = signer
        self.integrator = Integrator(self.store, signer, batch_size=batch_size)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> AuditLedger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def integrate(self) -> int:
        """Append every settled new event; sign a checkpoint if the tree grew. New tree size."""
        return self.integrator.integrate()

    def tree_size(self) -> int:
        return self.store.tree_size()

    def root(self, size: int | None = None) -> bytes:
        size = self.tree_size() if size is None else size
        if not 0 <= size <= self.tree_size():
            raise ProofError(f"the tree has no size {size}")
        return tree_head(size, self.store.fetch_nodes)

    def checkpoint(self) -> StoredCheckpoint:
        """Integrate, then sign a checkpoint at the current size (or return the one there is)."""
        size = self.integrate()
        return self.integrator.sign_checkpoint(size)

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        found = self.store.checkpoints(latest=True)
        return found[0] if found else None

    def checkpoints(self) -> list[StoredCheckpoint]:
        """Every checkpoint kept in the store, oldest first (for export)."""
        return self.store.checkpoints()

    def inclusion_proof(
        self,
        *,
        stream_id: UUID | str | None = None,
        version: int | None = None,
        notification_id: int | None = None,
        position: int | None = None,
        tree_size: int | None = None,
    ) -> InclusionProof:
        """Proof that an event (by stream id and version, notification id or leaf position)
        is in the tree of `tree_size` leaves (default: the latest checkpoint's size)."""
        stored = self.store.find_leaf(
            notification_id=notification_id, stream_id=stream_id, version=version, position=position
        )
        if stored is None:
            raise EventNotInLedgerError(
                "no such event in the ledger (it may not be integrated yet)"
            )
        if tree_size is None:
            latest = self.latest_checkpoint()
            tree_size = latest.tree_size if latest is not None else self.tree_size()
        if tree_size > self.tree_size():
            raise ProofError(f"the tree has no size {tree_size}")
        if stored.position >= tree_size:
            raise EventNotInLedgerError(
                f"event is leaf {stored.position}, after the checkpoint of size {tree_size}"
            )
        path = inclusion_proof(stored.position, tree_size, self.store.fetch_nodes)
        return InclusionProof(
            stored.position,
            tree_size,
            stored.leaf_hash,
            tuple(path),
            stream_id=stored.leaf.stream_id,
            version=stored.leaf.version,
            notification_id=stored.notification_id,
        )

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """Proof that the tree of `old_size` leaves is a prefix of the tree of `new_size`."""
        new_size = self.tree_size() if new_size is None else new_size
        if new_size > self.tree_size():
            raise ProofError(f"the tree has no size {new_size}")
        path = consistency_proof(old_size, new_size, self.store.fetch_nodes)
        return ConsistencyProof(
            old_size, self.root(old_size), new_size, self.root(new_size), tuple(path)
        )
