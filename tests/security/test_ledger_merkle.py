"""RFC 9162 Merkle tree: CT reference test vectors, a naive cross-check, damaged proofs."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from security.ledger.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

# The eight leaves of the CT reference implementation's merkle tree tests (merkle_tree_test.cc).
LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    bytes(range(0x60, 0x70)),
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION_PATHS = [  # (leaf index, tree size, path)
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY_PATHS = [  # (old size, new size, path)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


def naive_root(leaves: list[bytes]) -> bytes:
    """MTH straight from RFC 9162 section 2.1.1, recursive, independent of the tree under test."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + naive_root(leaves[:k]) + naive_root(leaves[k:])).digest()


def naive_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*naive_path(m, leaves[:k]), naive_root(leaves[k:])]
    return [*naive_path(m - k, leaves[k:]), naive_root(leaves[:k])]


def naive_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [naive_root(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*naive_subproof(m, leaves[:k], whole), naive_root(leaves[k:])]
    return [*naive_subproof(m - k, leaves[k:], False), naive_root(leaves[:k])]


def tree_of(size: int) -> tuple[MemoryTree, list[bytes]]:
    leaves = [i.to_bytes(4, "big") for i in range(size)]
    return MemoryTree(leaves), leaves


def test_the_empty_tree_hashes_to_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert MemoryTree().root() == EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_tree_heads_match_the_ct_reference_vectors(size: int) -> None:
    tree = MemoryTree(LEAVES)
    assert tree.root(size).hex() == ROOTS[size - 1]
    assert naive_root(LEAVES[:size]).hex() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION_PATHS)
def test_inclusion_proofs_match_the_ct_reference_vectors(
    index: int, size: int, path: list[str]
) -> None:
    tree = MemoryTree(LEAVES)
    proof = inclusion_proof(index, size, tree.fetch)
    assert [p.hex() for p in proof] == path
    root = bytes.fromhex(ROOTS[size - 1])
    assert verify_inclusion(index, size, leaf_hash(LEAVES[index]), proof, root)


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY_PATHS)
def test_consistency_proofs_match_the_ct_reference_vectors(
    old: int, new: int, path: list[str]
) -> None:
    tree = MemoryTree(LEAVES)
    proof = consistency_proof(old, new, tree.fetch)
    assert [p.hex() for p in proof] == path
    old_root, new_root = bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1])
    assert verify_consistency(old, new, old_root, new_root, proof)


def test_every_proof_up_to_size_33_matches_the_naive_recursion_and_verifies() -> None:
    tree, leaves = tree_of(33)
    for size in range(1, 34):
        root = tree.root(size)
        assert root == naive_root(leaves[:size])
        for index in range(size):
            proof = inclusion_proof(index, size, tree.fetch)
            assert proof == naive_path(index, leaves[:size])
            assert verify_inclusion(index, size, leaf_hash(leaves[index]), proof, root)
        for old in range(1, size + 1):
            proof = consistency_proof(old, size, tree.fetch)
            assert proof == naive_subproof(old, leaves[:size], True)
            assert verify_consistency(old, size, tree.root(old), root, proof)


def test_proofs_for_leaves_or_sizes_the_tree_lacks_are_refused() -> None:
    tree, _ = tree_of(4)
    with pytest.raises(ProofError):
        inclusion_proof(4, 4, tree.fetch)
    with pytest.raises(ProofError):
        consistency_proof(3, 2, tree.fetch)


def damaged(proof: list[bytes]) -> list[tuple[str, list[bytes]]]:
    """Every way a proof path can be damaged: a hash added, removed, or one bit flipped."""
    out: list[tuple[str, list[bytes]]] = []
    extra = hashlib.sha256(b"extra").digest()
    for at in range(len(proof) + 1):
        out.append((f"hash added at {at}", [*proof[:at], extra, *proof[at:]]))
    for at in range(len(proof)):
        out.append((f"hash {at} removed", proof[:at] + proof[at + 1 :]))
        flipped = bytes([proof[at][0] ^ 1]) + proof[at][1:]
        out.append((f"hash {at} flipped", [*proof[:at], flipped, *proof[at + 1 :]]))
    return out


@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_every_damaged_inclusion_proof_is_rejected(case: tuple[int, int]) -> None:
    size, index = case
    tree, leaves = tree_of(size + 1)
    root = tree.root(size)
    proof = inclusion_proof(index, size, tree.fetch)
    leaf = leaf_hash(leaves[index])
    assert verify_inclusion(index, size, leaf, proof, root)
    for name, bad in damaged(proof):
        assert not verify_inclusion(index, size, leaf, bad, root), name
    for other in (index - 1, index + 1):
        assert not verify_inclusion(other, size, leaf, proof, root), f"index {other}"
    # A size is only ever checked together with the root signed for it in a checkpoint
    # (RFC 9162 proofs alone do not bind the size: 3 and 4 share paths for leaf 0).
    for other_size in (size - 1, size + 1):
        other_root = tree.root(other_size)
        assert not verify_inclusion(index, other_size, leaf, proof, other_root), (
            f"size {other_size}"
        )
    assert not verify_inclusion(index, size, leaf, proof, tree.root(size + 1))
    assert not verify_inclusion(index, size, leaf_hash(b"forged"), proof, root)


@given(st.integers(2, 300).flatmap(lambda n: st.tuples(st.integers(1, n - 1), st.just(n))))
def test_every_damaged_consistency_proof_is_rejected(case: tuple[int, int]) -> None:
    old, new = case
    tree, _ = tree_of(new + 1)
    old_root, new_root = tree.root(old), tree.root(new)
    proof = consistency_proof(old, new, tree.fetch)
    assert verify_consistency(old, new, old_root, new_root, proof)
    for name, bad in damaged(proof):
        assert not verify_consistency(old, new, old_root, new_root, bad), name
    for other_old, other_new in ((old - 1, new), (old + 1, new), (old, new - 1), (old, new + 1)):
        if other_old == other_new or other_old < 1:
            continue
        other = (tree.root(other_old), tree.root(other_new))
        assert not verify_consistency(other_old, other_new, *other, proof), (
            f"sizes {other_old}->{other_new}"
        )
    wrong_old_root = tree.root(old - 1) if old > 1 else new_root
    assert not verify_consistency(old, new, wrong_old_root, new_root, proof)
    assert not verify_consistency(old, new, old_root, tree.root(new + 1), proof)
