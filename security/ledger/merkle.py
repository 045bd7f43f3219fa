"""RFC 9162 (RFC 6962) Merkle tree hashing: tree heads, inclusion and consistency proofs.

Node (level, index) is the perfect subtree over leaves [index * 2^level, (index + 1) * 2^level).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeId = tuple[int, int]
NodeFetcher = Callable[[Iterable[NodeId]], Mapping[NodeId, bytes]]


class ProofError(ValueError):
    """A proof was asked for sizes or indices the tree does not have."""


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """k with k < n <= 2k (n > 1), the split point of RFC 9162 section 2.1.1."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH of a whole list of leaf hashes, bottom-up (no recursion, fine for millions)."""
    if not hashes:
        return EMPTY_ROOT
    stack = CompactRange()
    for value in hashes:
        stack.append(value)
    return stack.root()


class CompactRange:
    """The right edge of a growing tree: one perfect-subtree root per set bit of the size.

    Appending costs amortised O(1) hashes and the root O(log n): `verify` folds leaves into it.
    """

    __slots__ = ("hashes", "size")

    def __init__(self) -> None:
        self.size = 0
        # Perfect-subtree roots, largest first; public so `verify` can inline appends.
        self.hashes: list[bytes] = []

    def append(self, value: bytes) -> list[tuple[NodeId, bytes]]:
        """Add a leaf hash; return every node (level, index) -> hash that became complete."""
        completed = [((0, self.size), value)]
        index = self.size
        level = 0
        hashes = self.hashes
        while index & 1:
            value = node_hash(hashes.pop(), value)
            level += 1
            index >>= 1
            completed.append(((level, index), value))
        hashes.append(value)
        self.size += 1
        return completed

    def append_fast(self, value: bytes) -> None:
        """`append` without reporting nodes: the verification hot loop."""
        size = self.size
        hashes = self.hashes
        while size & 1:
            value = hashlib.sha256(b"\x01" + hashes.pop() + value).digest()
            size >>= 1
        hashes.append(value)
        self.size += 1

    def append_subtree(self, level: int, value: bytes) -> None:
        """Add a perfect subtree of 2**level leaves with root `value`; the size must be a
        multiple of 2**level (then it is exactly `append` one level up)."""
        if self.size & ((1 << level) - 1):
            raise ValueError(f"a subtree of level {level} cannot start at leaf {self.size}")
        index = self.size >> level
        hashes = self.hashes
        while index & 1:
            value = node_hash(hashes.pop(), value)
            index >>= 1
        hashes.append(value)
        self.size += 1 << level

    def root(self) -> bytes:
        return fold_subtrees(self.hashes)

    @classmethod
    def from_nodes(cls, size: int, fetch: NodeFetcher) -> CompactRange:
        """Rebuild the right edge of a stored tree of `size` leaves from its perfect subtrees."""
        ids = perfect_subtrees(0, size)
        found = fetch(ids)
        edge = cls()
        edge.size = size
        edge.hashes = [found[node] for node in ids]
        return edge


def fold_subtrees(hashes: Sequence[bytes]) -> bytes:
    """The root of a tree from the roots of its perfect subtrees, largest (leftmost) first."""
    if not hashes:
        return EMPTY_ROOT
    value = hashes[-1]
    for left in reversed(hashes[:-1]):
        value = node_hash(left, value)
    return value


def perfect_subtrees(start: int, end: int) -> list[NodeId]:
    """The perfect subtrees, left to right, whose fold is MTH(D[start:end]) for an RFC 9162 range.

    Valid for the ranges the RFC recursion produces: `start` is a multiple of a power of two
    at least as large as the range.
    """
    nodes: list[NodeId] = []
    size = end - start
    position = start
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            nodes.append((level, position >> level))
            position += 1 << level
    return nodes


def _fold(nodes: Sequence[NodeId], found: Mapping[NodeId, bytes]) -> bytes:
    value = found[nodes[-1]]
    for node in reversed(nodes[:-1]):
        value = node_hash(found[node], value)
    return value


def tree_head(size: int, fetch: NodeFetcher) -> bytes:
    """MTH(D[0:size]) from stored perfect subtrees: O(log n) node reads."""
    if size == 0:
        return EMPTY_ROOT
    nodes = perfect_subtrees(0, size)
    return _fold(nodes, fetch(nodes))


def _resolve(ranges: Sequence[tuple[int, int]], fetch: NodeFetcher) -> list[bytes]:
    plans = [perfect_subtrees(start, end) for start, end in ranges]
    found = fetch({node for plan in plans for node in plan})
    return [_fold(plan, found) for plan in plans]


def _inclusion_ranges(m: int, start: int, end: int) -> list[tuple[int, int]]:
    """RFC 9162 2.1.3.1 PATH(m, D[start:end]) as the ranges whose hashes form the path."""
    n = end - start
    if n == 1:
        return []
    k = _largest_power_of_two_below(n)
    if m < k:
        return [*_inclusion_ranges(m, start, start + k), (start + k, end)]
    return [*_inclusion_ranges(m - k, start + k, end), (start, start + k)]


def _consistency_ranges(m: int, start: int, end: int, whole: bool) -> list[tuple[int, int]]:
    """RFC 9162 2.1.4.1 SUBPROOF(m, D[start:end], b) as ranges."""
    n = end - start
    if m == n:
        return [] if whole else [(start, end)]
    k = _largest_power_of_two_below(n)
    if m <= k:
        return [*_consistency_ranges(m, start, start + k, whole), (start + k, end)]
    return [*_consistency_ranges(m - k, start + k, end, False), (start, start + k)]


def inclusion_proof(index: int, size: int, fetch: NodeFetcher) -> list[bytes]:
    """Audit path for leaf `index` in the tree of `size` leaves."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    return _resolve(_inclusion_ranges(index, 0, size), fetch)


def consistency_proof(old_size: int, new_size: int, fetch: NodeFetcher) -> list[bytes]:
    """Proof that the tree of `old_size` leaves is a prefix of the tree of `new_size` leaves."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    return _resolve(_consistency_ranges(old_size, 0, new_size, True), fetch)


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2, step by step; `leaf` is the leaf hash."""
    if index >= size or index < 0:
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if len(p) != HASH_SIZE or sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2, step by step."""
    if old_size < 0 or old_size > new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        # Every tree extends the empty tree; RFC 9162 proofs start at size 1.
        return not proof
    if not proof or any(len(p) != HASH_SIZE for p in proof):
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


class MemoryTree:
    """Every node of a tree in memory: for tests and for offline tools."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self.nodes: dict[NodeId, bytes] = {}
        self.edge = CompactRange()
        for leaf in leaves:
            self.append_leaf_hash(leaf_hash(leaf))

    @property
    def size(self) -> int:
        return self.edge.size

    def append_leaf_hash(self, value: bytes) -> None:
        self.nodes.update(self.edge.append(value))

    def fetch(self, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        return {node: self.nodes[node] for node in ids}

    def root(self, size: int | None = None) -> bytes:
        return tree_head(self.size if size is None else size, self.fetch)
