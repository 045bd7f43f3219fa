"""Erasure through the registry over the real envelope: the contact is erased, the partner stays."""

from __future__ import annotations

from uuid import UUID

from domain.actors import ADMIN, RECORDER, Actor, acting_as
from domain.application import PartnershipRegistry
from domain.vocabulary import PARTNER_KINDS, SCOPES
from security.keys import PersonKeyShredder, open_key_store
from tests.backends import Backend
from tests.security.envelope_fixtures import raw_storage_bytes

RECORDER_ACTOR = Actor("recorder-1", RECORDER)
ADMIN_ACTOR = Actor("admin-1", ADMIN)


def registry(backend: Backend) -> PartnershipRegistry:
    env = backend.env()
    return PartnershipRegistry(env=env, person_keys=PersonKeyShredder(open_key_store(env)))


def test_erasing_a_contact_person_keeps_the_partner_readable(backend: Backend) -> None:
    app = registry(backend)
    try:
        with acting_as(RECORDER_ACTOR):
            partner_id = app.register_partner(
                "Association des Femmes Juristes", sorted(PARTNER_KINDS)[0], sorted(SCOPES)[0]
            ).id
            person_id = app.add_contact_person(
                partner_id, "Amina Zarafshan", email="amina@ajf.example", phone="+236 555 01"
            ).item_id
        assert isinstance(person_id, UUID)
        assert app.get_partner(partner_id).contacts[str(person_id)].name == "Amina Zarafshan"

        with acting_as(ADMIN_ACTOR):
            app.erase_personal_data(person_id, reason="request of the person")

        for reader in (app, registry(backend)):
            for version in (None, 2):
                contact = reader.get_partner(partner_id, version).contacts[str(person_id)]
                assert contact.erased
                assert contact.name == "[erased]"
        assert app.get_partner(partner_id).version >= 2
        raw = raw_storage_bytes(backend)
        for secret in (b"Zarafshan", b"amina@ajf.example", b"+236 555", b"Femmes Juristes"):
            assert secret not in raw
    finally:
        app.close()
