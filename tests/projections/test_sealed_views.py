"""Views at rest: sealed text columns bound to their place, blind-index search, layout upgrade."""

from __future__ import annotations

import pytest

from api.runtime import key_store
from domain.application import PartnershipRegistry
from projections.crypto import ViewCipher, ViewIntegrityError, index_terms, query_terms
from projections.follower import project_pending
from projections.projection import RegistryProjection
from projections.queries.partners import PartnerFilter, count_partners, list_partners
from projections.schema import FORMAT_TABLE, TRACKING_TABLE
from projections.store import ViewStore


def test_terms_are_words_and_prefixes_without_accents_or_case() -> None:
    assert index_terms(["Réseau HD"]) == {"res", "rese", "resea", "reseau", "hd"}
    assert query_terms("  RÉSEAU, femmes-paix ") == ["reseau", "femmes", "paix"]


def test_search_matches_every_word_prefix_in_any_order_not_substrings(
    registry: PartnershipRegistry, store: ViewStore, projection: RegistryProjection
) -> None:
    registry.register_partner("Femmes pour la Paix", "women's group", "local", acronym="FPP")
    registry.register_partner("Centre for Humanitarian Dialogue", "international NGO", "international",
                              acronym="HD")  # fmt: skip
    registry.register_partner("Peacebuilding Centre", "network", "regional")
    project_pending(registry, projection)

    def names(search: str) -> list[str]:
        return [r.name for r in list_partners(store, PartnerFilter(search=search), scope=None).rows]

    assert names("paix femmes") == ["Femmes pour la Paix"]
    assert names("FEM") == ["Femmes pour la Paix"]
    assert names("centre") == ["Centre for Humanitarian Dialogue", "Peacebuilding Centre"]
    assert names("peace") == ["Peacebuilding Centre"]
    assert names("hd") == ["Centre for Humanitarian Dialogue"]
    assert names("humanitàrian dial") == ["Centre for Humanitarian Dialogue"]
    assert names("ace") == []  # a substring, not a word prefix
    assert names("emmes") == []
    assert names("h") == []  # short words match whole words only
    assert names("--") == []
    assert count_partners(store, PartnerFilter(search="centre"), scope=None) == 2


def test_a_renamed_partner_is_found_by_its_new_and_former_names(
    registry: PartnershipRegistry, store: ViewStore, projection: RegistryProjection
) -> None:
    partner = registry.register_partner("Old Name Network", "network", "regional")
    registry.update_profile(partner.id, "Brand New Collective", "network", "regional")
    project_pending(registry, projection)  # a rename keeps the old name as a former name

    def found(search: str) -> int:
        return count_partners(store, PartnerFilter(search=search), scope=None)

    assert found("brand collective") == 1
    assert found("old network") == 1
    assert found("brand old") == 1


def test_sealed_values_are_bytes_bound_to_table_column_and_row(
    registry: PartnershipRegistry, store: ViewStore, projection: RegistryProjection
) -> None:
    a = registry.register_partner("Alpha Mediators", "network", "regional", acronym="ALPHA")
    b = registry.register_partner("Beta Watch", "network", "regional")
    project_pending(registry, projection)
    raw = {
        r["partner_id"]: r
        for r in store.query("SELECT partner_id, name, acronym FROM view_partners")
    }
    stored = raw[str(a.id)]["name"]
    assert isinstance(stored, bytes)
    assert b"Alpha" not in stored
    assert store.cipher.open("view_partners", "name", str(a.id), stored) == "Alpha Mediators"
    with pytest.raises(ViewIntegrityError):  # another row
        store.cipher.open("view_partners", "name", str(b.id), stored)
    with pytest.raises(ViewIntegrityError):  # another column
        store.cipher.open("view_partners", "acronym", str(a.id), stored)
    with pytest.raises(ViewIntegrityError):  # another key
        ViewCipher(bytes(32)).open("view_partners", "name", str(a.id), stored)

    # Swap two partners' names in the database: reading either fails, it never shows the other.
    with store.writing() as cursor:
        cursor.execute(
            "UPDATE view_partners SET name = ? WHERE partner_id = ?", (stored, str(b.id))
        )
    with pytest.raises(ViewIntegrityError):
        list_partners(store, scope=None)


def test_the_views_key_is_a_registry_key_and_survives_a_new_store(
    registry: PartnershipRegistry, store: ViewStore, projection: RegistryProjection
) -> None:
    registry.register_partner("Gamma Forum", "network", "regional")
    project_pending(registry, projection)
    again = ViewStore.for_application(registry)
    assert [r.name for r in list_partners(again, scope=None).rows] == ["Gamma Forum"]
    keys = key_store(registry)
    assert keys.data_key_for_stream(f"views:{registry.name}").secret is not None


def test_views_of_an_older_layout_are_dropped_and_replayed(
    registry: PartnershipRegistry, store: ViewStore, projection: RegistryProjection
) -> None:
    registry.register_partner("Delta Voices", "network", "regional")
    project_pending(registry, projection)
    with store.writing() as cursor:  # as if written by the plaintext layout (format 1)
        cursor.execute(f"UPDATE {FORMAT_TABLE} SET format = 1")
    store.create_table()
    assert store.query(f"SELECT * FROM {TRACKING_TABLE}") == []
    assert store.query("SELECT * FROM view_partners") == []
    assert project_pending(registry, RegistryProjection(store)) == registry.max_position()
    assert [r.name for r in list_partners(store, scope=None).rows] == ["Delta Voices"]
