"""The hot loop of `registry verify`: check one range of ledger leaves against the stored events.

Standard library only, and no imports from this package, so that `verify` can run this very file
in a bare second interpreter (``python -I -S scan.py``, about 20 ms to start) and have it check
ranges of a SQLite store on the other core: hashing is most of verify's cost and hashlib holds
the GIL for small inputs, so threads would not help.

A range [start, stop) of leaf positions is checked on its own. Each stored leaf hash is compared
with the leaf recomputed from its event; the previous leaf hash of the same stream, which the
leaf commits to, is taken from the stored leaf before it in the range (already compared), or,
for a stream's first leaf in the range, from the leaf row's own `prev_stream_leaf_hash`: the
caller checks that claim against the last stored leaf hash of that stream in earlier ranges
(a `Chunk`'s entries against the exits before it). By induction every leaf then matches its
recomputation with the true chain, as in one sequential walk. The verified leaf hashes are
folded into the perfect subtrees of the range, which combine across ranges aligned to a power
of two. Anything unexpected makes the check return None: `verify` then walks the store again
the slow, sequential way to name the first bad event.
"""

from __future__ import annotations

import hashlib
import marshal
import sqlite3
import struct
import sys

TYPE_CHECKING = False  # typing stays unimported at run time: the helper starts ~8 ms sooner
if TYPE_CHECKING:
    from typing import Any, BinaryIO, Protocol

# The leaf encoding (see leaf.py for the layout): the parts `verify` builds itself.
LEAF_TAG = b"registry-ledger-leaf/1"
_LEN = struct.Struct(">I")
_INT64 = struct.Struct(">q")
_L0 = _LEN.pack(0)
_L8 = _LEN.pack(8)
_L16 = _LEN.pack(16)
_L32 = _LEN.pack(32)
_HEADER_V1 = b"PR\x01"  # magic and format version of the payload header (header.py)
_HEADER_SIZE = 43


def canonical_stream_id(text: str) -> str:
    """SQLite keeps UUID stream ids as 32 hex digits; leaves commit to the hyphenated form."""
    if len(text) == 32:
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return text


def leaf_prefix(stream_id: str) -> bytes:
    """0x00 || tag || field 1 (the stream id): the same for every leaf of a stream, so cached."""
    sid = stream_id.encode()
    return b"\x00" + LEAF_TAG + _LEN.pack(len(sid)) + sid


def topic_field(topic: str) -> bytes:
    tpc = topic.encode()
    return _LEN.pack(len(tpc)) + tpc


# One row per leaf, in position order: (notification id, stored leaf hash, the leaf row's
# prev_stream_leaf_hash, and the event's stream id, version, topic, payload bytes).
LeafEventRow = tuple[int, bytes, bytes | None, str, int, str, bytes]


if TYPE_CHECKING:

    class Source(Protocol):
        """Where a range's rows come from: the ledger store, or a helper's SQLite connection."""

        def leaf_event_rows(self, start: int, stop: int) -> list[LeafEventRow]:
            """Leaves at positions [start, stop) with their events (by notification id), in
            position order; fewer rows than leaves when a leaf or its event is missing."""
            ...

        def count_events(self, low: int, high: int) -> int:
            """Stored events with notification ids in [low, high]."""
            ...


# What one checked range hands back, to be stitched to its neighbours (a plain tuple, as it
# crosses the pipe from a helper):
#   first and last notification id of its leaves (strictly increasing between, and no other
#     event stored between them),
#   entries: stream -> the prev hash its first leaf here claims,
#   exits: stream -> its last leaf hash here,
#   nodes: (level, hash) of the perfect subtrees covering the range, largest first,
#   cuts: offset -> the perfect subtrees covering [start, start + offset).
Chunk = tuple[
    int,
    int,
    dict[str, bytes | None],
    dict[str, bytes],
    list[tuple[int, bytes]],
    dict[int, list[bytes]],
]


def check_range(source: Source, start: int, stop: int, cuts: list[int]) -> Chunk | None:
    """Check leaves [start, stop) (start a multiple of a power of two >= stop - start).

    `cuts` are offsets in (0, stop - start] at which a tree size is wanted (checkpoints).
    None: something does not match (not necessarily in this range: explaining is verify's job).
    """
    rows = source.leaf_event_rows(start, stop)
    # Positions are unique integers, so stop - start rows in [start, stop) are all of them.
    if len(rows) != stop - start or not rows:
        return None
    sha256 = hashlib.sha256
    join = b"".join
    pack_version = _INT64.pack
    l0, l8, l16, l32 = _L0, _L8, _L16, _L32
    no_header = l0 + l0
    magic = _HEADER_V1
    # raw stream id -> [leaf prefix || length of the version field, field 7 of the next leaf]
    streams: dict[str, list[bytes]] = {}
    entries: dict[str, bytes | None] = {}
    topics: dict[str, bytes] = {}
    first_nid = expected = rows[0][0]
    gapped = False
    for nid, stored, claimed, sid, version, topic, state in rows:
        if nid != expected:
            if nid < expected:  # not in notification order
                return None
            gapped = True
        expected = nid + 1
        stream = streams.get(sid)
        if stream is None:
            stream = streams[sid] = [
                leaf_prefix(canonical_stream_id(sid)) + l8,
                l32 + claimed if claimed else l0,
            ]
            entries[sid] = claimed or None
        topic_bytes = topics.get(topic)
        if topic_bytes is None:
            topic_bytes = topics[topic] = topic_field(topic)
        if len(state) >= _HEADER_SIZE and state[:3] == magic:
            # The header's recorded time is already an 8-byte big-endian int64: sliced, not parsed.
            parts: tuple[bytes, ...] = (
                stream[0],
                pack_version(version),
                topic_bytes,
                l8,
                state[23:31],
                l16,
                state[3:19],
                l32,
                sha256(state).digest(),
                stream[1],
            )
        else:
            parts = (
                stream[0],
                pack_version(version),
                topic_bytes,
                no_header,
                l32,
                sha256(state).digest(),
                stream[1],
            )
        if sha256(join(parts)).digest() != stored:
            return None
        stream[1] = l32 + stored
    last_nid = expected - 1
    # No other event may sit between two leaves' events (one inserted after integration).
    if gapped and source.count_events(first_nid, last_nid) != len(rows):
        return None
    exits = {sid: stream[1][4:] for sid, stream in streams.items()}
    nodes, cut_nodes = _subtrees([row[1] for row in rows], cuts)
    return first_nid, last_nid, entries, exits, nodes, cut_nodes


def _subtrees(
    hashes: list[bytes], cuts: list[int]
) -> tuple[list[tuple[int, bytes]], dict[int, list[bytes]]]:
    """Hash `hashes` level by level; the perfect subtrees covering all of them and each cut."""
    sha256 = hashlib.sha256
    one = b"\x01"
    levels = [hashes]
    level = hashes
    while len(level) > 1:
        pairs = iter(level)  # an odd last hash waits for a later range, or is its own subtree
        level = [
            sha256(one + left + right).digest() for left, right in zip(pairs, pairs, strict=False)
        ]
        levels.append(level)

    def cover(size: int) -> list[tuple[int, bytes]]:
        found = []
        offset = 0
        for height in range(size.bit_length() - 1, -1, -1):
            if size >> height & 1:
                found.append((height, levels[height][offset >> height]))
                offset += 1 << height
        return found

    return cover(len(hashes)), {cut: [value for _, value in cover(cut)] for cut in cuts}


# A worker: this file run as a script, checking ranges of one SQLite store on request ---------

SQLITE_LEAF_EVENTS = (
    "SELECT l.notification_id, l.leaf_hash, l.prev_stream_leaf_hash, "
    "e.originator_id, e.originator_version, e.topic, e.state "
    "FROM {leaves} l JOIN {events} e ON e.rowid = l.notification_id "
    "WHERE l.position >= ? AND l.position < ? ORDER BY l.position"
)
SQLITE_COUNT_EVENTS = "SELECT COUNT(*) FROM {events} WHERE rowid >= ? AND rowid <= ?"


class SQLiteSource:
    """Rows straight from a SQLite file, as the library opens it (a URI, auto-commit)."""

    def __init__(self, db_name: str, leaves: str, events: str) -> None:
        self.connection = sqlite3.connect(db_name, uri=True, isolation_level=None, timeout=10)
        self.rows_query = SQLITE_LEAF_EVENTS.format(leaves=leaves, events=events)
        self.count_query = SQLITE_COUNT_EVENTS.format(events=events)

    def leaf_event_rows(self, start: int, stop: int) -> list[LeafEventRow]:
        return self.connection.execute(self.rows_query, (start, stop)).fetchall()

    def count_events(self, low: int, high: int) -> int:
        return int(self.connection.execute(self.count_query, (low, high)).fetchone()[0])

    def close(self) -> None:
        self.connection.close()


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    """Answer (start, stop, cuts) requests with marshalled `Chunk` tuples (None: a mismatch;
    ("error", text): the check failed) until a None request or the end of input.

    The first message names the store: (SQLite db name, leaves table, events table).
    """
    # marshal, not pickle: plain values only, between `verify` and the child it started.
    db_name, leaves, events = marshal.load(requests)  # noqa: S302
    source = SQLiteSource(db_name, leaves, events)
    try:
        while True:
            try:
                request = marshal.load(requests)  # noqa: S302
            except EOFError:
                return
            if request is None:
                return
            start, stop, cuts = request
            try:
                found = check_range(source, start, stop, cuts)
                reply: Any = None if found is None else tuple(found)
            except Exception as error:  # reported to the parent, which checks the range itself
                reply = ("error", f"{type(error).__name__}: {error}")
            marshal.dump(reply, replies)
            replies.flush()
    finally:
        source.close()


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
