"""The ledger over the real registry: enveloped events, and crypto-shredding leaves it verifiable."""

from __future__ import annotations

import importlib.util

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from security.ledger import AuditLedger, CheckpointSigner, to_json, verify_proof, verify_store
from tests.backends import Backend

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("security.keys") is None
    or importlib.util.find_spec("domain.application") is None,
    reason="needs the registry application and key store",
)


def test_the_ledger_still_verifies_after_a_person_key_is_destroyed(backend: Backend) -> None:
    from domain.actors import ADMIN, RECORDER, Actor, acting_as
    from domain.application import PartnershipRegistry
    from domain.vocabulary import PARTNER_KINDS, SCOPES
    from security.keys import PersonKeyShredder, open_key_store

    env = backend.env()
    app = PartnershipRegistry(env=env, person_keys=PersonKeyShredder(open_key_store(env)))
    signer = CheckpointSigner(Ed25519PrivateKey.generate(), "test.example/registry")
    ledger = AuditLedger(env, signer)
    try:
        with acting_as(Actor("recorder-1", RECORDER)):
            partner_id = app.register_partner(
                "Association des Femmes Juristes", sorted(PARTNER_KINDS)[0], sorted(SCOPES)[0]
            ).id
            person_id = app.add_contact_person(partner_id, "Amina Zarafshan").item_id
        assert person_id is not None
        ledger.integrate()
        before = ledger.checkpoint()
        first = ledger.store.find_leaf(position=0)
        assert first is not None
        assert first.leaf.key_id is not None, "registry payloads carry the envelope header"

        with acting_as(Actor("admin-1", ADMIN)):
            app.erase_personal_data(person_id, reason="request of the person")
        ledger.integrate()
        after = ledger.checkpoint()
        assert after.tree_size > before.tree_size

        key = signer.verifier_key()
        for exported in (before.note, after.note):
            result = verify_store(env, exported, public_key=key)
            assert result.ok, result.summary()
        proof = ledger.consistency_proof(before.tree_size, after.tree_size)
        assert verify_proof(key, after.note, to_json(proof), before.note).ok
    finally:
        ledger.close()
        app.close()
