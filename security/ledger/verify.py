"""Audit checks: recompute the whole tree from the stored events (`verify_store`), and check a
proof against a signed checkpoint offline with only the public key (`verify_proof`).
"""

from __future__ import annotations

import bisect
import gc
import marshal
import os
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from security.ledger import scan
from security.ledger.checkpoint import CheckpointError, parse_checkpoint, verify_checkpoint
from security.ledger.leaf import leaf_for_event, leaf_prefix, prefixed_leaf_hash, topic_field
from security.ledger.merkle import (
    CompactRange,
    fold_subtrees,
    tree_head,
    verify_consistency,
    verify_inclusion,
)
from security.ledger.proofs import ConsistencyProof, ProofFormatError, parse_proof
from security.ledger.scan import Chunk, check_range
from security.ledger.store import (
    DEFAULT_APPLICATION_NAME,
    LedgerStore,
    StoredLeaf,
    canonical_stream_id,
)

Progress = Callable[[int, int], None]  # (leaves checked so far, leaves in the tree)
CHUNK = 4096
"""Leaves per range of the fast check: a power of two, so the ranges' perfect subtrees combine."""
PARALLEL_FROM = 4 * CHUNK
"""Fewest leaves for which a helper process pays (it takes about 20 ms to start)."""
PAGE = 5000  # rows per read of the sequential walk


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
    parallel: bool | None = None,
) -> VerificationResult:
    """Recompute every leaf and the tree from the raw stored events and compare with the ledger,
    its stored checkpoints and (if given) an exported checkpoint, signature-checked when a public
    key is given.

    `parallel`: check ranges of a SQLite file in a second process too (None: when the store is
    large enough and a second CPU is there; True: whenever the store is a SQLite file).
    """
    store = LedgerStore(env, application_name=application_name)
    # Rows and hashes by the hundred thousand, and no cycles: the cyclic collector's passes
    # would only walk the caller's heap again and again (a process serving the API, a bench).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _verify(store, checkpoint, progress, public_key, parallel)
    finally:
        if collecting:
            gc.enable()
        store.close()


def _verify(
    store: LedgerStore,
    checkpoint_text: str | None,
    progress: Progress | None,
    public_key: str | bytes | None,
    parallel: bool | None,
) -> VerificationResult:
    # What vouches for tree sizes is read before the size: an integrator commits leaves together
    # with the state and signs checkpoints after, so whatever it adds between these reads belongs
    # to a tree no larger than the size read, never "beyond" it (a verify beside a running
    # integrator reported tampering when the state was read first).
    stored_checkpoints = store.checkpoints()
    top = store.last_leaf_position()
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
    wanted = {c.tree_size for c in stored_checkpoints}
    if exported is not None:
        wanted.add(exported.tree_size)
    roots: dict[int, bytes] = {}
    edge = CompactRange()
    if 0 in wanted:
        roots[0] = edge.root()
    try:
        helper = _helper_target(store, size, parallel)
        if not _check_ranges(store, size, last_id, top, edge, wanted, roots, progress, helper):
            # Something does not match: walk again, in order, to name the first bad event.
            edge = CompactRange()
            roots = {0: edge.root()} if 0 in wanted else {}
            position = _walk(store, last_id, size, edge, wanted, roots, progress)
            if position != size:
                raise _TamperFoundError(
                    position, None, f"ledger state says {size} leaves but {position} exist"
                )
        root = edge.root()
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


def _helper_target(store: LedgerStore, size: int, parallel: bool | None) -> tuple[str, ...] | None:
    """What a helper process opens, when one is worth starting."""
    if parallel is False or not sys.executable:
        return None
    target = store.sqlite_file()
    if target is None:  # PostgreSQL, where the server does a good part of the work anyway
        return None
    if parallel is None and (size < PARALLEL_FROM or _cpus() < 2):
        return None
    return target


def _cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _check_ranges(
    store: LedgerStore,
    size: int,
    last_id: int,
    top: int,
    edge: CompactRange,
    wanted: set[int],
    roots: dict[int, bytes],
    progress: Progress | None,
    helper_target: tuple[str, ...] | None,
) -> bool:
    """The fast check: leaves in ranges, each checked on its own (`scan.check_range`), by this
    process and, when there is one, a helper process, each taking the next range when free; then
    stitched here in order: notification ids, per-stream chains across ranges, the tree.

    True: everything matches (as the sequential `_walk` would find), `edge` and `roots` are the
    tree. False: something does not; the caller walks sequentially to explain it.
    """
    if top >= size:
        return False  # leaves beyond the tree the state describes
    work = _Ranges(size, wanted, shared=helper_target is not None)
    stitched = _Stitcher(store, edge, roots)
    if helper_target is None:  # one process, ranges in order
        for done, (start, stop) in enumerate(work.ranges):
            work.results[done] = check_range(store, start, stop, work.cuts[done])
            if stitched.add_ready(work, done, progress) < 0:
                return False
        return stitched.finish(last_id)
    helper = _Helper(helper_target, work)
    merged = 0
    leaves_here, seconds_here = 0, 0.0
    try:
        while (index := work.take()) is not None:
            began = time.perf_counter()
            work.results[index] = check_range(store, *work.ranges[index], work.cuts[index])
            seconds_here += time.perf_counter() - began
            leaves_here += work.ranges[index][1] - work.ranges[index][0]
            merged = stitched.add_ready(work, merged, progress)
            if merged < 0:
                return False
        # The helper owes at most two ranges: the one it would start next is checked here, the
        # one it is on is waited for, up to twice what checking it here would take.
        owed = helper.owed()
        for index in owed[1:]:
            if work.results[index] is _TODO:
                work.results[index] = check_range(store, *work.ranges[index], work.cuts[index])
        if owed:
            start, stop = work.ranges[owed[0]]
            per_leaf = seconds_here / leaves_here if leaves_here else 0.001
            helper.wait_for(owed[0], 2 * per_leaf * (stop - start))
    finally:
        helper.finish()
    if work.stopped:  # the helper found a mismatch
        return False
    for index, found in enumerate(work.results):
        if found is _TODO:  # the helper took it but stopped before answering
            work.results[index] = check_range(store, *work.ranges[index], work.cuts[index])
    merged = stitched.add_ready(work, merged, progress)
    return merged == len(work.ranges) and stitched.finish(last_id)


_TODO: Any = object()  # a range nobody has checked yet


def _plan(size: int, *, shared: bool) -> list[tuple[int, int]]:
    """Ranges of CHUNK leaves; when shared with a helper, the last 2 * CHUNK leaves or fewer in
    eighths, so that both processes finish at about the same time. Each range starts at a
    multiple of its length, a power of two, so its perfect subtrees are the tree's."""
    ranges = []
    start = 0
    while start < size:
        step = CHUNK if not shared or size - start > 2 * CHUNK else max(1, CHUNK // 8)
        ranges.append((start, min(size, start + step)))
        start += step
    return ranges


class _Ranges:
    """The ranges to check, handed out in order to whichever process is free."""

    def __init__(self, size: int, wanted: set[int], *, shared: bool = False) -> None:
        self.ranges = _plan(size, shared=shared)
        # Tree sizes wanted (checkpoints) as offsets into their range.
        self.cuts: list[list[int]] = [[] for _ in self.ranges]
        starts = [start for start, _ in self.ranges]
        for tree_size in sorted(wanted):
            if 0 < tree_size <= size:
                index = bisect.bisect_right(starts, tree_size - 1) - 1
                self.cuts[index].append(tree_size - starts[index])
        self.results: list[Chunk | None] = [_TODO] * len(self.ranges)
        self.taken = 0
        self.stopped = False
        self.lock = threading.Lock()

    def take(self) -> int | None:
        with self.lock:
            if self.stopped or self.taken >= len(self.ranges):
                return None
            self.taken += 1
            return self.taken - 1

    def stop(self) -> None:
        with self.lock:
            self.stopped = True


class _Stitcher:
    """Joins checked ranges in order into one tree and checks what spans ranges."""

    def __init__(self, store: LedgerStore, edge: CompactRange, roots: dict[int, bytes]) -> None:
        self.store = store
        self.edge = edge
        self.roots = roots
        self.last_nid = 0  # notification ids start at 1: nothing below may be skipped either
        self.heads: dict[str, bytes] = {}  # stream -> its last leaf hash so far

    def add_ready(self, work: _Ranges, merged: int, progress: Progress | None) -> int:
        """Stitch the checked ranges from `merged` on, up to the first unchecked one; how many
        are stitched now (-1: a mismatch)."""
        while merged < len(work.ranges) and work.results[merged] is not _TODO:
            found = work.results[merged]
            if found is None or not self.add(work.ranges[merged][0], found):
                work.stop()
                return -1
            merged += 1
            if progress is not None:
                progress(self.edge.size, work.ranges[-1][1])
        return merged

    def add(self, start: int, chunk: Chunk) -> bool:
        first_nid, last_nid, entries, exits, nodes, cuts = chunk
        if first_nid <= self.last_nid:
            return False  # not in notification order
        if first_nid > self.last_nid + 1 and self.store.count_events(
            self.last_nid + 1, first_nid - 1
        ):
            return False  # an event stored between two ranges was never integrated
        heads = self.heads
        for stream, claimed in entries.items():
            if heads.get(stream) != claimed:
                return False  # a stream's first leaf here does not chain to its last before
        heads.update(exits)
        edge = self.edge
        for offset, subtrees in sorted(cuts.items()):
            self.roots[start + offset] = fold_subtrees([*edge.hashes, *subtrees])
        for level, value in nodes:
            edge.append_subtree(level, value)
        self.last_nid = last_nid
        return True

    def finish(self, last_id: int) -> bool:
        """After the last range: no event up to the last integrated id was left out."""
        if self.last_nid > last_id:
            return False
        return self.last_nid == last_id or not self.store.count_events(self.last_nid + 1, last_id)


class _Helper:
    """A second interpreter running scan.py on the same SQLite file, fed ranges by a thread of
    this process (which mostly waits on pipes, so it hardly competes for the GIL).

    Any failure only ends the help: ranges it did not answer are checked by this process.
    """

    def __init__(self, target: tuple[str, ...], work: _Ranges) -> None:
        self.target = target
        self.work = work
        self.process: subprocess.Popen[bytes] | None = None
        self.lock = threading.Lock()
        self.closing = False
        self.waiting: deque[int] = deque()  # ranges asked for and not answered yet, in order
        self.answered = threading.Condition()  # notified at each answer, and when it stops
        self.stopped = False
        self.thread = threading.Thread(target=self._run, name="verify-helper", daemon=True)
        self.thread.start()

    def owed(self) -> list[int]:
        return list(self.waiting)

    def wait_for(self, index: int, seconds: float) -> None:
        """Until range `index` is answered or the helper stopped, at most `seconds`."""
        with self.answered:
            self.answered.wait_for(
                lambda: self.stopped or self.work.results[index] is not _TODO, seconds
            )

    def _run(self) -> None:
        try:
            self._serve()
        except (OSError, EOFError, ValueError, TypeError):
            pass  # the helper is gone or answered nonsense: this process checks the rest
        finally:
            with self.answered:
                self.stopped = True
                self.answered.notify_all()
            self._reap()

    def _serve(self) -> None:
        work = self.work
        with self.lock:
            if self.closing:
                return
            self.process = subprocess.Popen(  # noqa: S603 (this interpreter, a file of ours)
                [sys.executable, "-I", "-S", scan.__file__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        requests, replies = self.process.stdin, self.process.stdout
        assert requests is not None
        assert replies is not None
        marshal.dump(self.target, requests)
        waiting = self.waiting
        while True:
            # Two ranges asked for at a time, so the helper never waits for this thread (asked
            # at once, so it starts on them as soon as it is up; any it has not answered when
            # this process runs out of work are checked there too).
            while len(waiting) < 2 and (index := work.take()) is not None:
                start, stop = work.ranges[index]
                marshal.dump((start, stop, work.cuts[index]), requests)
                waiting.append(index)
            requests.flush()
            if not waiting:
                return
            reply = marshal.load(replies)  # noqa: S302 (plain values from our own child)
            index = waiting[0]
            if reply is None:
                work.results[index] = None
                work.stop()
            elif isinstance(reply, tuple) and reply and reply[0] == "error":
                return  # it cannot check ranges here: this process checks the rest
            else:
                work.results[index] = reply
            waiting.popleft()
            with self.answered:
                self.answered.notify_all()

    def _reap(self) -> None:
        """In this thread, so `verify` need not wait for the helper to exit."""
        with self.lock:
            self.closing = True
            process = self.process
        if process is None:
            return
        for pipe in (process.stdin, process.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass
        process.wait()  # it exits at the end of its input (or was killed)

    def finish(self) -> None:
        """Stop the helper: whatever it was on is checked here or no longer needed."""
        with self.lock:
            self.closing = True
            process = self.process
        if process is not None and process.poll() is None:
            process.kill()  # at once: its thread then reads the end of its output and stops
        self.thread.join()


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

    The sequential walk, run when the fast check finds a mismatch: it stops at the first bad
    leaf and says why (`_diagnose`, `_misaligned`).
    """
    position = 0
    after = 0
    # raw stream id -> [canonical id, leaf prefix, last hash]
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
            return position
        for (nid, sid, version, topic, state), (at, leaf_nid, stored_hash) in zip(
            events, leaves, strict=False
        ):
            if at != position or nid != leaf_nid:
                raise _misaligned(store, position, (nid, sid, version), at, leaf_nid)
            stream = streams.get(sid)
            if stream is None:
                canonical = canonical_stream_id(sid)
                stream = streams[sid] = [canonical, leaf_prefix(canonical), None]
            topic_bytes = topics.get(topic)
            if topic_bytes is None:
                topic_bytes = topics[topic] = topic_field(topic)
            prev = stream[2]
            value = prefixed_leaf_hash(stream[1], version, topic_bytes, state, prev)
            if value != stored_hash:
                event = (nid, stream[0], version, topic, bytes(state))
                stored = store.find_leaf(position=position)
                assert stored is not None
                ref = EventRef(stream[0], version, nid)
                raise _TamperFoundError(position, ref, _diagnose(stored, event, prev))
            stream[2] = value
            edge.append_fast(value)
            position += 1
            if position == next_wanted:
                roots[position] = edge.root()
                next_wanted = checkpoints.pop(0) if checkpoints else -1
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
