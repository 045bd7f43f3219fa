"""Turns newly committed events into ledger leaves, in dense positions, in commit order.

Reads the application's stored events table (the library's notification log, via its recorder
and datastore) in notification order; never decrypts. Leaves, tree nodes and the integration state are written in one transaction per batch.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from security.ledger.checkpoint import CheckpointSigner
from security.ledger.leaf import leaf_for_event
from security.ledger.merkle import CompactRange, NodeId, tree_head
from security.ledger.store import (
    EventRow,
    LedgerStore,
    StoredCheckpoint,
    StoredLeaf,
    canonical_stream_id,
)


class Integrator:
    """Appends every settled, not yet integrated event to the tree and signs a checkpoint."""

    def __init__(
        self, store: LedgerStore, signer: CheckpointSigner | None, *, batch_size: int = 2000
    ) -> None:
        self.store = store
        self.signer = signer
        self.batch_size = batch_size

    def integrate(self) -> int:
        """Integrate up to the settled horizon; return the new tree size."""
        horizon = self.store.dialect.settled_notification_id()
        size, last_id = self.store.integration_state()
        start_size = size
        while horizon is not None and last_id < horizon:
            # The same raw rows `verify` reads, so both turn rows into leaves identically.
            rows = self.store.event_rows(last_id, horizon, self.batch_size)
            if not rows:
                break
            size, last_id = self._append_batch(rows)
        if self.signer is not None and (size != start_size or self._unsigned(size)):
            self.sign_checkpoint(size)
        return size

    def _unsigned(self, size: int) -> bool:
        # A crash between a batch and its checkpoint leaves the tree ahead: sign it next time.
        latest = self.store.checkpoints(latest=True)
        return size > 0 and (not latest or latest[0].tree_size < size)

    def _append_batch(self, rows: Sequence[EventRow]) -> tuple[int, int]:
        store = self.store
        with store.dialect.transaction(commit=True) as cursor:
            store.lock_for_append(cursor)
            size, last_id = store.integration_state(cursor)
            # Another integrator may have got here first: skip what it already took.
            fresh = [row for row in rows if row[0] > last_id]
            if not fresh:
                return size, last_id
            edge = CompactRange.from_nodes(size, lambda ids: store.fetch_nodes(ids, cursor))
            streams = sorted({canonical_stream_id(row[1]) for row in fresh})
            heads = store.last_stream_leaf_hashes(streams, cursor)
            leaves: list[StoredLeaf] = []
            nodes: list[tuple[NodeId, bytes]] = []
            for offset, (nid, raw_stream, version, topic, state) in enumerate(fresh):
                stream = canonical_stream_id(raw_stream)
                leaf = leaf_for_event(stream, version, topic, state, heads.get(stream))
                value = leaf.leaf_hash
                heads[stream] = value
                leaves.append(StoredLeaf(size + offset, nid, leaf, value))
                nodes.extend(edge.append(value))
            last = fresh[-1][0]
            store.append(cursor, leaves, nodes, old_size=size, last_notification_id=last)
        return size + len(leaves), last

    def sign_checkpoint(self, size: int | None = None) -> StoredCheckpoint:
        """Sign (and keep) a checkpoint at `size`, by default the current tree size."""
        if self.signer is None:
            raise ValueError("no checkpoint signing key is configured")
        if size is None:
            size = self.store.tree_size()
        for existing in self.store.checkpoints(tree_size=size):
            return existing
        root = tree_head(size, self.store.fetch_nodes)
        note = self.signer.sign(size, root).text
        checkpoint = StoredCheckpoint(size, root, note, time.time_ns() // 1000)
        self.store.save_checkpoint(checkpoint)
        return checkpoint
