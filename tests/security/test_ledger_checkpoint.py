"""Signed checkpoints: the C2SP signed-note text form, keys from configuration, offline checks."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import struct
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from security.ledger.checkpoint import (
    CheckpointError,
    CheckpointSigner,
    key_id,
    load_signer,
    parse_checkpoint,
    verify_checkpoint,
)
from security.ledger.header import read_payload_header
from security.ledger.leaf import fast_leaf_hash, leaf_for_event
from security.ledger.merkle import MemoryTree, fold_subtrees
from security.ledger.proofs import parse_proof, to_json
from security.ledger.scan import LeafEventRow, check_range
from security.ledger.verify import verify_proof

ROOT = hashlib.sha256(b"root").digest()


def signer(origin: str = "registry.example/ledger") -> CheckpointSigner:
    return CheckpointSigner(Ed25519PrivateKey.generate(), origin)


def test_a_checkpoint_reads_as_origin_size_root_blank_line_and_signature() -> None:
    s = signer()
    text = s.sign(42, ROOT).text
    lines = text.split("\n")
    assert lines[0] == "registry.example/ledger"
    assert lines[1] == "42"
    assert base64.b64decode(lines[2]) == ROOT
    assert lines[3] == ""
    assert lines[4].startswith("\u2014 registry.example/ledger ")
    blob = base64.b64decode(lines[4].split(" ")[2])
    assert blob[:4] == key_id("registry.example/ledger", s.public_key)
    assert len(blob) == 4 + 64
    assert text.endswith("\n")


def test_a_checkpoint_verifies_with_the_public_key_alone() -> None:
    s = signer()
    text = s.sign(7, ROOT).text
    for key in (s.verifier_key(), base64.b64encode(s.public_key).decode(), s.public_key):
        checkpoint = verify_checkpoint(text, key)
        assert (checkpoint.tree_size, checkpoint.root_hash) == (7, ROOT)


@pytest.mark.parametrize(
    ("what", "change"),
    [
        ("size", lambda t: t.replace("\n7\n", "\n8\n", 1)),
        (
            "root",
            lambda t: t.replace(
                base64.b64encode(ROOT).decode(), base64.b64encode(b"x" * 32).decode()
            ),
        ),
        ("origin", lambda t: t.replace("registry.example/ledger\n", "registry.example/other\n", 1)),
        ("signature", lambda t: t[:-6] + ("A" if t[-6] != "A" else "B") + t[-5:]),
    ],
)
def test_a_changed_checkpoint_no_longer_verifies(what: str, change: object) -> None:
    s = signer()
    text = s.sign(7, ROOT).text
    changed = change(text)  # type: ignore[operator]
    assert changed != text, what
    with pytest.raises(CheckpointError):
        verify_checkpoint(changed, s.verifier_key())


def test_a_checkpoint_signed_by_another_key_is_refused() -> None:
    text = signer().sign(7, ROOT).text
    with pytest.raises(CheckpointError):
        verify_checkpoint(text, signer().verifier_key())


def test_malformed_checkpoints_are_refused_with_a_reason() -> None:
    for text in ("", "origin\n7\n", "origin\nseven\nAAAA\n\n", "origin\n7\nnot base64!\n\n"):
        with pytest.raises(CheckpointError):
            parse_checkpoint(text)


def test_the_signing_key_comes_from_configuration_or_a_development_file(tmp_path: Path) -> None:
    raw = Ed25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )
    configured = load_signer({"REGISTRY_LEDGER_SIGNING_KEY": base64.b64encode(raw).decode()})
    key_file = tmp_path / "signing.key"
    key_file.write_text(base64.b64encode(raw).decode() + "\n")
    from_file = load_signer({"REGISTRY_LEDGER_SIGNING_KEY_FILE": str(key_file)})
    assert configured.public_key == from_file.public_key
    dev_file = tmp_path / "var" / "ledger-signing.key"
    first = load_signer({}, development=True, dev_key_file=dev_file)
    again = load_signer({}, development=True, dev_key_file=dev_file)
    assert first.public_key == again.public_key
    assert dev_file.stat().st_mode & 0o777 == 0o600
    with pytest.raises(CheckpointError, match="REGISTRY_LEDGER_SIGNING_KEY"):
        load_signer({"REGISTRY_ENV": "production"}, dev_key_file=tmp_path / "none.key")
    with pytest.raises(CheckpointError, match="32 bytes"):
        load_signer({"REGISTRY_LEDGER_SIGNING_KEY": base64.b64encode(b"short").decode()})


def test_an_inclusion_proof_is_checked_offline_against_a_signed_checkpoint() -> None:
    s = signer()
    tree = MemoryTree([b"a", b"b", b"c", b"d", b"e"])
    checkpoint = s.sign(5, tree.root()).text
    from security.ledger.merkle import inclusion_proof, leaf_hash
    from security.ledger.proofs import InclusionProof

    proof = InclusionProof(3, 5, leaf_hash(b"d"), tuple(inclusion_proof(3, 5, tree.fetch)))
    assert parse_proof(to_json(proof)) == proof
    assert verify_proof(s.verifier_key(), checkpoint, to_json(proof)).ok
    wrong_size = InclusionProof(3, 4, proof.leaf_hash, proof.path)
    assert not verify_proof(s.verifier_key(), checkpoint, to_json(wrong_size)).ok
    assert not verify_proof(s.verifier_key(), checkpoint, "{not json").ok
    assert not verify_proof(s.verifier_key(), checkpoint, '{"type": "inclusion"}').ok


def envelope_like(key: uuid.UUID, micros: int) -> bytes:
    return struct.pack(">2sB16sIq12s", b"PR", 1, key.bytes, 3, micros, b"n" * 12) + b"ciphertext"


def test_the_leaf_takes_key_id_and_recorded_time_from_the_payload_header() -> None:
    key = uuid.uuid4()
    micros = 1_700_000_000_123_456
    header = read_payload_header(envelope_like(key, micros))
    assert header is not None
    assert header.key_id == key
    assert header.recorded_at == datetime.fromtimestamp(micros / 1_000_000, UTC).replace(
        microsecond=micros % 1_000_000
    )
    assert read_payload_header(b'{"plain": "json"}') is None


@pytest.mark.skipif(
    importlib.util.find_spec("security.envelope") is None, reason="security.envelope not present"
)
def test_the_ledger_reads_the_header_exactly_as_the_envelope_writes_it() -> None:
    from security.envelope import read_header

    key = uuid.uuid4()
    state = envelope_like(key, 1_700_000_000_123_456)
    theirs = read_header(state)
    ours = read_payload_header(state)
    assert ours is not None
    assert (ours.key_id, ours.recorded_at) == (theirs.key_id, theirs.recorded_at)


def test_the_fast_leaf_hash_equals_the_documented_encoding() -> None:
    stream = str(uuid.uuid4())
    prev = hashlib.sha256(b"prev").digest()
    for state in (envelope_like(uuid.uuid4(), 5), b"plain bytes", b""):
        for before in (None, prev):
            leaf = leaf_for_event(stream, 4, "domain.events:Decided", state, before)
            assert (
                fast_leaf_hash(stream, 4, "domain.events:Decided", state, before) == leaf.leaf_hash
            )


class Rows:
    """A source for `check_range`: rows by position, every notification id stored."""

    def __init__(self, rows: list[LeafEventRow]) -> None:
        self.rows = rows

    def leaf_event_rows(self, start: int, stop: int) -> list[LeafEventRow]:
        return self.rows[start:stop]

    def count_events(self, low: int, high: int) -> int:
        return high - low + 1


def test_the_range_check_recomputes_the_documented_leaves_and_their_subtrees() -> None:
    streams = [uuid.uuid4().hex, str(uuid.uuid4())]  # as SQLite and PostgreSQL give them
    states = [envelope_like(uuid.uuid4(), 5), b"plain bytes", b"", b"PR\x01 but too short"]
    rows: list[LeafEventRow] = []
    heads: dict[str, bytes] = {}
    tree = MemoryTree()
    for n in range(8):
        sid, state, version = streams[n % 2], states[n % 4], n // 2 + 1
        leaf = leaf_for_event(str(uuid.UUID(sid)), version, "a:B", state, heads.get(sid))
        rows.append((n + 1, leaf.leaf_hash, heads.get(sid), sid, version, "a:B", state))
        heads[sid] = leaf.leaf_hash
        tree.append_leaf_hash(leaf.leaf_hash)
    whole = check_range(Rows(rows), 0, 8, [3, 8])
    assert whole is not None
    first_nid, last_nid, entries, exits, nodes, cuts = whole
    assert (first_nid, last_nid) == (1, 8)
    assert nodes == [(3, tree.root(8))]
    assert fold_subtrees(cuts[3]) == tree.root(3)
    assert fold_subtrees(cuts[8]) == tree.root(8)
    assert entries == {streams[0]: None, streams[1]: None}
    assert exits == heads
    # A range starting mid-stream takes the prev hash each stream's first leaf there claims.
    tail = check_range(Rows(rows), 4, 7, [])
    assert tail is not None
    assert tail[2] == {streams[0]: rows[2][1], streams[1]: rows[3][1]}
    assert tail[4] == [(1, tree.nodes[(1, 2)]), (0, rows[6][1])]
    # Anything else does not match.
    changed = [*rows[:5], (*rows[5][:6], rows[5][6] + b"!"), *rows[6:]]
    assert check_range(Rows(changed), 0, 8, []) is None
    reordered = [rows[1], rows[0], *rows[2:]]
    assert check_range(Rows(reordered), 0, 8, []) is None
    assert check_range(Rows(rows[:7]), 0, 8, []) is None


def test_the_leaf_encoding_is_unambiguous_across_field_boundaries() -> None:
    payload = hashlib.sha256(b"x").digest()
    a = leaf_for_event("ab", 1, "c", b"x", None)
    b = leaf_for_event("a", 1, "bc", b"x", None)
    assert a.payload_sha256 == b.payload_sha256 == payload
    assert a.encode() != b.encode()
