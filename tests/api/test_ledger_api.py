"""The audit ledger over HTTP: checkpoints and proofs over GraphQL and REST, checked offline.

A proof fetched over REST verifies with ``security.ledger.verify_proof`` and with
``registry verify-proof`` (no database); every damaged proof fails; proofs are authorised by
``security.permissions`` and partner-scoped.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from api.runtime import audit_ledger
from security import permissions
from security.ledger import verify_proof
from security.permissions import Rule
from tests.api.conftest import Api, raw
from tests.api.conftest import api as api  # the HTTP fixture, shared
from tests.api.scenario import register

HISTORY = "query($id: ID!) { history(id: $id) { eventId version eventType } }"
CHECKPOINT = "{ checkpoint { treeSize rootHash note createdAt verifierKey } }"
INCLUSION = """query($e: ID!) { inclusionProof(eventId: $e) {
  leafIndex treeSize leafHash path json event { eventId streamId version notificationId }
  checkpoint { treeSize rootHash note verifierKey } } }"""
CONSISTENCY = """query($from: Int!, $to: Int) { consistencyProof(fromSize: $from, toSize: $to) {
  oldSize oldRoot newSize newRoot path json checkpoint { treeSize note } } }"""


def seal(api: Api) -> int:
    """What `registry checkpoint` does: integrate every stored event, sign; the tree size."""
    app: Any = api.client.app
    with audit_ledger(app.state.settings) as ledger:
        return ledger.checkpoint().tree_size


def bearer(api: Api, role: str = "human_rights_officer", org: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.token(role, org)}"}


def first_event(api: Api, record: str) -> str:
    events = api.data(HISTORY, {"id": record})["history"]
    return str(events[0]["eventId"])


def rest_checkpoint(api: Api) -> str:
    response = api.client.get("/ledger/checkpoint", headers=bearer(api))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return str(response.text)


def rest_inclusion(api: Api, event: str, size: int) -> str:
    response = api.client.get(
        "/ledger/proofs/inclusion", params={"event": event, "size": size}, headers=bearer(api)
    )
    assert response.status_code == 200, response.text
    return str(response.text)


def verifier_key(api: Api) -> str:
    return str(api.data(CHECKPOINT)["checkpoint"]["verifierKey"])


def test_checkpoint_over_graphql_and_rest(api: Api) -> None:
    register(api, "Bor Women Traders")
    size = seal(api)
    found = api.data(CHECKPOINT, role="evaluator")["checkpoint"]
    assert found["treeSize"] >= size > 0
    assert len(found["rootHash"]) == 64
    assert found["note"].splitlines()[1] == str(found["treeSize"])
    assert found["createdAt"]
    note = rest_checkpoint(api)
    assert note == found["note"] or int(note.splitlines()[1]) >= found["treeSize"]
    partner_note = api.client.get("/ledger/checkpoint", headers=bearer(api, "partner", "x"))
    assert partner_note.status_code == 200  # the matrix lets partners see checkpoints


def test_an_inclusion_proof_over_rest_verifies_offline_and_damaged_ones_fail(api: Api) -> None:
    partner = register(api, "Aweil Peace Network")
    for name in ("Aweil Traders", "Aweil Elders", "Aweil Youth"):  # a tree with a real path
        register(api, name)
    event = first_event(api, partner)
    size = seal(api)
    key = verifier_key(api)
    note = api.client.get("/ledger/checkpoint", params={"size": size}, headers=bearer(api)).text
    proof = rest_inclusion(api, event, size)
    check = verify_proof(key, note, proof)
    assert check.ok, check.message
    body = json.loads(proof)
    assert body["type"] == "inclusion"
    assert body["tree_size"] == size
    assert body["event"]["stream_id"] == raw(partner)
    assert body["event"]["version"] == 1
    assert body["path"]

    def damaged(change: dict[str, Any]) -> str:
        return json.dumps({**body, **change})

    flipped = [body["path"][0][:-1] + ("0" if body["path"][0][-1] != "0" else "1")]
    variants = [
        damaged({"leaf_index": body["leaf_index"] + 1}),
        damaged({"tree_size": body["tree_size"] + 1}),
        damaged({"leaf_hash": "00" * 32}),
        damaged({"path": body["path"] + ["11" * 32]}),
        damaged({"path": body["path"][:-1]}),
        damaged({"path": flipped + body["path"][1:]}),
    ]
    for variant in variants:
        assert not verify_proof(key, note, variant).ok, variant
    other_root = note.replace(note.splitlines()[2], "A" * 43 + "=")
    assert not verify_proof(key, other_root, proof).ok


def test_the_cli_verifies_a_proof_fetched_over_rest(api: Api, tmp_path: Path) -> None:
    partner = register(api, "Rumbek Youth Forum")
    size = seal(api)
    event = first_event(api, partner)
    (tmp_path / "key").write_text(verifier_key(api))
    (tmp_path / "checkpoint").write_text(
        api.client.get("/ledger/checkpoint", params={"size": size}, headers=bearer(api)).text
    )
    proof = rest_inclusion(api, event, size)
    (tmp_path / "proof.json").write_text(proof)
    body = json.loads(proof)
    body["leaf_index"] += 1
    (tmp_path / "damaged.json").write_text(json.dumps(body))

    def verify(proof_file: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", "from api.cli import main; main()", "verify-proof"]
        command += ["--public-key", str(tmp_path / "key")]
        command += ["--checkpoint", str(tmp_path / "checkpoint"), "--proof", proof_file]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)

    ok = verify(str(tmp_path / "proof.json"))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = verify(str(tmp_path / "damaged.json"))
    assert bad.returncode != 0, bad.stdout


def test_inclusion_proof_over_graphql_names_its_event_and_checkpoint(api: Api) -> None:
    partner = register(api, "Malakal Elders")
    entries = api.data(
        "query($p: [ID!]) { timeline(partnerIds: $p) { edges { node { id eventId } } } }",
        {"p": [partner]},
    )["timeline"]["edges"]
    seal(api)
    for event in (entries[0]["node"]["eventId"], entries[0]["node"]["id"]):
        proof = api.data(INCLUSION, {"e": event})["inclusionProof"]
        assert proof["event"]["streamId"] == raw(partner)
        assert proof["checkpoint"]["treeSize"] == proof["treeSize"]
        check = verify_proof(
            proof["checkpoint"]["verifierKey"], proof["checkpoint"]["note"], proof["json"]
        )
        assert check.ok, check.message
        assert json.loads(proof["json"])["path"] == proof["path"]
    raw_id = f"{raw(partner)}:1"
    assert api.data(INCLUSION, {"e": raw_id})["inclusionProof"]["event"]["version"] == 1


def test_a_consistency_proof_shows_the_ledger_only_grew(api: Api) -> None:
    register(api, "Wau Mediators")
    old_size = seal(api)
    old_note = api.client.get(
        "/ledger/checkpoint", params={"size": old_size}, headers=bearer(api)
    ).text
    register(api, "Yambio Traders")
    new_size = seal(api)
    assert new_size > old_size
    key = verifier_key(api)
    new_note = api.client.get(
        "/ledger/checkpoint", params={"size": new_size}, headers=bearer(api)
    ).text
    response = api.client.get(
        "/ledger/proofs/consistency",
        params={"from": old_size, "to": new_size},
        headers=bearer(api, "partner", "x"),
    )
    assert response.status_code == 200, response.text
    check = verify_proof(key, new_note, response.text, old_checkpoint_text=old_note)
    assert check.ok, check.message
    body = json.loads(response.text)
    body["old_root"] = "00" * 32
    assert not verify_proof(key, new_note, json.dumps(body)).ok
    found = api.data(CONSISTENCY, {"from": old_size, "to": new_size}, role="evaluator")
    proof = found["consistencyProof"]
    assert (proof["oldSize"], proof["newSize"]) == (old_size, new_size)
    assert proof["checkpoint"]["note"] == new_note
    assert verify_proof(key, new_note, proof["json"], old_checkpoint_text=old_note).ok
    wrong = api.error(CONSISTENCY, {"from": new_size, "to": old_size})
    assert wrong["extensions"]["code"] == "VALIDATION"
    beyond = api.error(CONSISTENCY, {"from": 0, "to": new_size + 10_000})
    assert beyond["extensions"]["code"] == "VALIDATION"


def test_unknown_or_not_yet_integrated_events_are_not_found(api: Api) -> None:
    partner = register(api, "Kuajok Farmers")
    seal(api)
    for event in ("nonsense", f"{raw(partner)}:99", "00000000-0000-0000-0000-000000000000:1"):
        error = api.error(INCLUSION, {"e": event})
        assert error["extensions"]["code"] == "NOT_FOUND", error
        response = api.client.get(
            "/ledger/proofs/inclusion", params={"event": event}, headers=bearer(api)
        )
        assert response.status_code == 404


def test_a_partner_gets_proofs_of_its_own_events_and_never_another_partners(api: Api) -> None:
    """Partners may check their own record was not altered; another partner's event is
    NOT_FOUND (never FORBIDDEN, which would confirm it exists)."""
    own = register(api, "Nimule Women")
    other = register(api, "Torit Elders")
    size = seal(api)
    mine = api.data(INCLUSION, {"e": first_event(api, own)}, role="partner", org=raw(own))
    proof = mine["inclusionProof"]
    assert proof["event"]["streamId"] == raw(own)
    check = verify_proof(
        proof["checkpoint"]["verifierKey"], proof["checkpoint"]["note"], proof["json"]
    )
    assert check.ok, check.message
    response = api.client.get(
        "/ledger/proofs/inclusion",
        params={"event": first_event(api, own), "size": size},
        headers=bearer(api, "partner", raw(own)),
    )
    assert response.status_code == 200, response.text
    assert json.loads(response.text)["event"]["stream_id"] == raw(own)
    foreign_event = first_event(api, other)
    foreign = api.error(INCLUSION, {"e": foreign_event}, role="partner", org=raw(own))
    assert foreign["extensions"]["code"] == "NOT_FOUND"
    assert "Torit" not in str(foreign)
    for params in ({"event": foreign_event}, {"event": foreign_event, "size": size}):
        response = api.client.get(
            "/ledger/proofs/inclusion", params=params, headers=bearer(api, "partner", raw(own))
        )
        assert response.status_code == 404
        assert "leaf_hash" not in response.text


def test_roles_without_the_operation_are_refused(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The matrix is what decides: were partners not granted proofs, they would be FORBIDDEN."""
    refused = Rule("query", "proof an event is in the ledger", {"human_rights_officer": "all"})
    monkeypatch.setitem(permissions.OPERATIONS, "inclusionProof", refused)
    partner = register(api, "Yei Traders")
    seal(api)
    event = first_event(api, partner)
    error = api.error(INCLUSION, {"e": event}, role="partner", org=raw(partner))
    assert error["extensions"]["code"] == "FORBIDDEN"
    response = api.client.get(
        "/ledger/proofs/inclusion",
        params={"event": event},
        headers=bearer(api, "partner", raw(partner)),
    )
    assert response.status_code == 403
    assert api.client.get("/ledger/checkpoint").status_code == 401
