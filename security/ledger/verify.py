"""Audit checks: recompute the whole tree from the stored events (`verify_store`), and check a
proof against a signed checkpoint offline with only the public key (`verify_proof`).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from security.ledger.checkpoint import CheckpointError, parse_checkpoint, verify_checkpoint
from security.ledger.leaf import leaf_for_event, leaf_prefix, topic_field
from security.ledger.merkle import CompactRange, tree_head, verify_consistency, verify_inclusion
from security.ledger.proofs import ConsistencyProof, ProofFormatError, parse_proof
from security.ledger.store import (
    DEFAULT_APPLICATION_NAME,
    LedgerStore,
    StoredLeaf,
    canonical_stream_id,
)

Progress = Callable[[int, int], None]  # (leaves checked so far, leaves in the tree)
PAGE = 5000


@dataclass(frozen=True)
class EventRef:
    """Names an event to a human: its stream (aggregate) id, version and notification id."""

    stream_id: str
    version: int
    notification_id: int

    def __str__(self) -> str:
        return (
            f"stream {self.stream_id} version {self.version} (notification {self.notification_id})"
        )


@dataclass
class VerificationResult:
    """What `verify_store` found. On failure, the first bad position and event, and why."""

    ok: bool
    tree_size: int
    root_hash: bytes
    checked: int = 0
    pending: int = 0
    bad_position: int | None = None
    bad_event: EventRef | None = None
    problem: str | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.ok:
            line = f"ledger intact: {self.tree_size} events, root {self.root_hash.hex()}"
            if self.pending:
                line += f", {self.pending} newer events not yet integrated"
            return line
        where = "" if self.bad_position is None else f" at leaf {self.bad_position}"
        event = "" if self.bad_event is None else f" ({self.bad_event})"
        return f"ledger TAMPERED{where}{event}: {self.problem}"


class _TamperFoundError(Exception):
    def __init__(self, position: int | None, event: EventRef | None, problem: str) -> None:
        super().__init__(problem)
        self.position = position
        self.event = event
        self.problem = problem


def _diagnose(
    stored: StoredLeaf, event: tuple[int, str, int, str, bytes], prev: bytes | None
) -> str:
    """Why a recomputed leaf differs from the stored one, in words an auditor can act on."""
    nid, sid, version, topic, state = event
    recomputed = leaf_for_event(sid, version, topic, state, prev)
    was = stored.leaf
    if (was.stream_id, was.version) != (sid, version):
        return (
            f"notification {nid} now holds stream {sid} version {version}, but the ledger "
            f"recorded stream {was.stream_id} version {was.version} there: rows were reordered "
            "or replaced"
        )
    if was.topic != topic:
        return f"event type changed from {was.topic!r} to {topic!r}"
    if was.payload_sha256 != recomputed.payload_sha256:
        return "stored payload bytes differ from the bytes that were recorded (changed or swapped)"
    if (was.recorded_at_us, was.key_id) != (recomputed.recorded_at_us, recomputed.key_id):
        return "payload header (recorded time or key id) differs from what was recorded"
    if was.prev_stream_leaf_hash != prev:
        return "per-stream chain broken: an earlier event of this stream is missing or altered"
    return "ledger leaf row was altered (its leaf hash does not match its own fields)"


def verify_store(
    env: Mapping[str, str],
    checkpoint: str | None = None,
    progress: Progress | None = None,
    *,
    public_key: str | bytes | None = None,
    application_name: str = DEFAULT_APPLICATION_NAME,
) -> VerificationResult:
    """Recompute every leaf and the tree from the raw stored events and compare with the ledger,
    its stored checkpoints and (if given) an exported checkpoint, signature-checked when a public
    key is given."""
    store = LedgerStore(env, application_name=application_name)
    try:
        return _verify(store, checkpoint, progress, public_key)
    finally:
        store.close()


def _verify(
    store: LedgerStore,
    checkpoint_text: str | None,
    progress: Progress | None,
    public_key: str | bytes | None,
) -> VerificationResult:
    size, last_id = store.integration_state()
    notes: list[str] = []
    exported = None
    if checkpoint_text is not None:
        try:
            if public_key is None:
                exported = parse_checkpoint(checkpoint_text)
                notes.append("checkpoint signature not checked (no public key given)")
            else:
                exported = verify_checkpoint(checkpoint_text, public_key)
        except CheckpointError as error:
            return VerificationResult(False, size, b"", problem=f"exported checkpoint: {error}")
    stored_checkpoints = store.checkpoints()
    wanted = {c.tree_size for c in stored_checkpoints}
    if exported is not None:
        wanted.add(exported.tree_size)
    roots: dict[int, bytes] = {}
    edge = CompactRange()
    if 0 in wanted:
        roots[0] = edge.root()
    position = 0
    try:
        position = _walk(store, last_id, size, edge, wanted, roots, progress)
        root = edge.root()
        if position != size:
            raise _TamperFoundError(
                position, None, f"ledger state says {size} leaves but {position} exist"
            )
        if size and root != tree_head(size, store.fetch_nodes):
            raise _TamperFoundError(
                None, None, "stored tree nodes disagree with the leaves (proofs would lie)"
            )
        for kept in stored_checkpoints:
            _compare(kept.tree_size, kept.root_hash, size, roots, "a checkpoint kept in the store")
        if exported is not None:
            _compare(exported.tree_size, exported.root_hash, size, roots, "the exported checkpoint")
    except _TamperFoundError as failure:
        return VerificationResult(
            False,
            size,
            edge.root(),
            checked=edge.size,  # leaves that matched before the first bad one
            bad_position=failure.position,
            bad_event=failure.event,
            problem=failure.problem,
            notes=notes,
        )
    pending = store.count_events_after(last_id)
    return VerificationResult(True, size, root, checked=size, pending=pending, notes=notes)


def _compare(
    claimed_size: int, claimed_root: bytes, size: int, roots: dict[int, bytes], what: str
) -> None:
    if claimed_size > size:
        raise _TamperFoundError(
            size,
            None,
            f"the tree has {size} leaves but {what} vouches for {claimed_size}: events were "
            "deleted from the end or an older copy of the database was restored",
        )
    if roots.get(claimed_size) != claimed_root:
        raise _TamperFoundError(
            None,
            None,
            f"the tree at size {claimed_size} does not match {what}: history before it was "
            "rewritten or an inconsistent copy was restored",
        )


def _walk(
    store: LedgerStore,
    last_id: int,
    size: int,
    edge: CompactRange,
    wanted: set[int],
    roots: dict[int, bytes],
    progress: Progress | None,
) -> int:
    """Pair the n-th stored event with leaf n, page by page, and recompute each leaf hash.

    Kept tight on purpose (local names, tuples, no objects per event): this is `verify`'s cost.
    """
    position = 0
    after = 0
    # Everything below is inlined by hand (leaf encoding as in leaf.prefixed_leaf_hash, the
    # compact-range append as in merkle.CompactRange.append_fast): each call saved is ~5% here.
    sha256 = hashlib.sha256
    pack_version = struct.Struct(">q").pack
    l0, l8, l16, l32 = (n.to_bytes(4, "big") for n in (0, 8, 16, 32))  # field lengths
    no_header = l0 + l0
    join = b"".join  # one allocation per leaf instead of one per "+"
    stack = edge.hashes
    # raw stream id -> [canonical id, leaf prefix + version length, last hash]
    streams: dict[str, list[Any]] = {}
    topics: dict[str, bytes] = {}
    checkpoints = sorted(wanted)
    next_wanted = checkpoints.pop(0) if checkpoints else -1
    if next_wanted == 0:
        next_wanted = checkpoints.pop(0) if checkpoints else -1
    while True:
        events = store.event_rows(after, last_id, PAGE)
        leaves = store.leaf_hash_rows(position, PAGE)
        if not events and not leaves:
            edge.size = position
            return position
        for (nid, sid, version, topic, state), (at, leaf_nid, stored_hash) in zip(
            events, leaves, strict=False
        ):
            if at != position or nid != leaf_nid:
                edge.size = position
                raise _misaligned(store, position, (nid, sid, version), at, leaf_nid)
            stream = streams.get(sid)
            if stream is None:
                canonical = canonical_stream_id(sid)
                stream = streams[sid] = [canonical, leaf_prefix(canonical) + l8, None]
            topic_bytes = topics.get(topic)
            if topic_bytes is None:
                topic_bytes = topics[topic] = topic_field(topic)
            prev = stream[2]
            if len(state) >= 43 and state[:3] == b"PR\x01":
                header = l8 + state[23:31] + l16 + state[3:19]
            else:
                header = no_header
            value = sha256(
                join(
                    (
                        stream[1],
                        pack_version(version),
                        topic_bytes,
                        header,
                        l32,
                        sha256(state).digest(),
                        l32 + prev if prev else l0,
                    )
                )
            ).digest()
            if value != stored_hash:
                edge.size = position
                event = (nid, stream[0], version, topic, bytes(state))
                stored = store.find_leaf(position=position)
                assert stored is not None
                ref = EventRef(stream[0], version, nid)
                raise _TamperFoundError(position, ref, _diagnose(stored, event, prev))
            stream[2] = value
            n = position
            while n & 1:
                value = sha256(b"\x01" + stack.pop() + value).digest()
                n >>= 1
            stack.append(value)
            position += 1
            if position == next_wanted:
                edge.size = position
                roots[position] = edge.root()
                next_wanted = checkpoints.pop(0) if checkpoints else -1
        edge.size = position
        if len(events) > len(leaves):
            nid, sid, version = events[len(leaves)][:3]
            raise _TamperFoundError(position, EventRef(str(sid), version, nid), _NEVER_INTEGRATED)
        if len(leaves) > len(events):
            raise _misaligned(store, position, None, leaves[len(events)][0], -1)
        after = events[-1][0]
        if progress is not None:
            progress(position, size)


_NEVER_INTEGRATED = "event is stored but was never integrated: a row was inserted afterwards"
_DELETED = "event recorded in the ledger is missing from the store (deleted)"


def _misaligned(
    store: LedgerStore,
    position: int,
    event: tuple[int, str, int] | None,
    leaf_position: int,
    leaf_nid: int,
) -> _TamperFoundError:
    """Explain why the n-th event and leaf n are not the same event."""
    if leaf_position != position:
        return _TamperFoundError(position, None, f"ledger leaf {position} is missing")
    stored = store.find_leaf(position=position)
    assert stored is not None
    ref = EventRef(stored.leaf.stream_id, stored.leaf.version, stored.notification_id)
    if event is None or event[0] > leaf_nid:
        return _TamperFoundError(position, ref, _DELETED)
    nid, sid, version = event
    return _TamperFoundError(position, EventRef(str(sid), version, nid), _NEVER_INTEGRATED)


@dataclass(frozen=True)
class ProofCheck:
    """The outcome of an offline proof check, with a one-line reason."""

    ok: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def verify_proof(
    public_key: str | bytes,
    checkpoint_text: str,
    proof_json: str,
    old_checkpoint_text: str | None = None,
) -> ProofCheck:
    """Check a proof against a signed checkpoint with only the public key: no database.

    Inclusion: the leaf is in the checkpoint's tree. Consistency: the checkpoint's tree extends
    the proof's old tree; pass the older signed checkpoint to have its root checked too.
    """
    try:
        checkpoint = verify_checkpoint(checkpoint_text, public_key)
        proof = parse_proof(proof_json)
        old = (
            None
            if old_checkpoint_text is None
            else verify_checkpoint(old_checkpoint_text, public_key)
        )
    except (CheckpointError, ProofFormatError) as error:
        return ProofCheck(False, str(error))
    if isinstance(proof, ConsistencyProof):
        if (proof.new_size, proof.new_root) != (checkpoint.tree_size, checkpoint.root_hash):
            return ProofCheck(False, "proof's new tree is not the checkpoint's tree")
        if old is not None and (proof.old_size, proof.old_root) != (old.tree_size, old.root_hash):
            return ProofCheck(False, "proof's old tree is not the older checkpoint's tree")
        if not verify_consistency(
            proof.old_size, proof.new_size, proof.old_root, proof.new_root, list(proof.path)
        ):
            return ProofCheck(False, "consistency proof does not verify: the log was rewritten")
        return ProofCheck(
            True,
            f"tree of {proof.old_size} leaves (root {proof.old_root.hex()}) "
            f"is a prefix of the checkpoint's {proof.new_size} leaves",
            {"old_size": proof.old_size, "old_root": proof.old_root.hex()},
        )
    if proof.tree_size != checkpoint.tree_size:
        return ProofCheck(
            False, f"proof is for tree size {proof.tree_size}, checkpoint is {checkpoint.tree_size}"
        )
    if not verify_inclusion(
        proof.leaf_index, proof.tree_size, proof.leaf_hash, list(proof.path), checkpoint.root_hash
    ):
        return ProofCheck(False, "inclusion proof does not verify against the checkpoint root")
    return ProofCheck(
        True,
        f"leaf {proof.leaf_index} is in the checkpoint's tree of {proof.tree_size} leaves",
        {"leaf_index": proof.leaf_index, "leaf_hash": proof.leaf_hash.hex()},
    )
