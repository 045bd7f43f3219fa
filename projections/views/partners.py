"""Partners view: each organisation's current profile, status and rating, for lists and filters.

Names, acronym, status reason, mission context and external id are sealed (``ViewBatch``);
the blind index ``view_partner_search`` holds HMAC tokens of the name, acronym and former
names' words and word prefixes (``projections.crypto``).
"""

from __future__ import annotations

from typing import Any

from domain.partner import PartnerOrganisation, Profile
from projections.batch import Appends, Fact, ViewBatch
from projections.handlers import HANDLERS
from projections.views.timeline import add_entry

P = PartnerOrganisation


def searchable(profile: Profile) -> list[str]:
    """The texts a free-text search matches: name, acronym, former names."""
    return [p for p in (profile.name, profile.acronym, *profile.former_names) if p]


_SEALED_PROFILE = ("name", "acronym", "mission_context", "external_id")


def _profile_columns(profile: Profile) -> dict[str, Any]:
    return {
        "name": profile.name,
        "acronym": profile.acronym,
        "kind": profile.kind,
        "scope": profile.scope,
        "mission_context": profile.mission_context,
        "external_id": profile.external_id,
    }


def _replace_lists(batch: ViewBatch, partner_id: str, profile: Profile, *, new: bool) -> None:
    if not new:
        for table in ("view_partner_countries", "view_partner_focus_areas"):
            batch.execute(f"DELETE FROM {table} WHERE partner_id = ?", (partner_id,))  # noqa: S608
    batch.insert_many(
        "view_partner_countries",
        [{"partner_id": partner_id, "country": c} for c in dict.fromkeys(profile.countries)],
    )
    batch.insert_many(
        "view_partner_focus_areas",
        [{"partner_id": partner_id, "focus_area": f} for f in dict.fromkeys(profile.focus_areas)],
    )
    _index_names(batch, partner_id, profile, new=new)


def _index_names(batch: ViewBatch, partner_id: str, profile: Profile, *, new: bool) -> None:
    """Write the partner's blind-index tokens for ``profile`` (one row per partner)."""
    tokens = b"".join(sorted(batch.cipher.index_tokens(searchable(profile))))
    if new:
        batch.insert_tuples("view_partner_search", ("partner_id", "tokens"), [(partner_id, tokens)])
    else:
        batch.execute(
            "UPDATE view_partner_search SET tokens = ? WHERE partner_id = ?", (tokens, partner_id)
        )


def partner_name(batch: ViewBatch, partner_id: str) -> str:
    known = batch.memo.get(("partner_name", partner_id))
    if known is not None:
        return str(known)
    rows = batch.query(
        "SELECT partner_id, name FROM view_partners WHERE partner_id = ?",
        (partner_id,),
        sealed="view_partners",
    )
    if not rows:
        return partner_id
    name = str(rows[0]["name"])
    batch.memo["partner_name", partner_id] = name
    return name


@HANDLERS.on(P.Event, reads=(), appends_only=True)
def touch_partner(batch: Appends, event: Any, fact: Fact) -> None:
    """Every partner event moves the row's version and last-change time."""
    if not isinstance(event, (P.Registered, *_STATUS)):
        batch.touch("view_partners", "partner_id", fact)


@HANDLERS.on(P.Registered, reads=("profile",))
def partner_registered(batch: ViewBatch, event: Any, fact: Fact) -> None:
    profile: Profile = event.profile
    batch.insert(
        "view_partners",
        {
            "partner_id": fact.record_id,
            **_profile_columns(profile),
            "status": "registered",
            "status_reason": "",
            "current_rating": None,
            "last_engaged_on": None,
            "registered_at": fact.recorded_at,
            "updated_at": fact.recorded_at,
            "version": fact.version,
        },
    )
    _replace_lists(batch, fact.record_id, profile, new=True)
    batch.memo["partner_name", fact.record_id] = profile.name
    add_entry(batch, fact, "partner_registered", f"{profile.name} registered", [fact.record_id])


@HANDLERS.on(P.ProfileUpdated, reads=("profile",))
def partner_profile_updated(batch: ViewBatch, event: Any, fact: Fact) -> None:
    columns = _profile_columns(event.profile)
    for column in _SEALED_PROFILE:
        columns[column] = batch.seal("view_partners", column, fact.record_id, columns[column])
    assignments = ", ".join(f"{column} = ?" for column in columns)
    batch.execute(
        f"UPDATE view_partners SET {assignments} WHERE partner_id = ?",  # noqa: S608 (fixed names)
        (*columns.values(), fact.record_id),
    )
    _replace_lists(batch, fact.record_id, event.profile, new=False)
    batch.memo["partner_name", fact.record_id] = event.profile.name


@HANDLERS.on(P.ContactPersonAdded, reads=("contact",))
def contact_added(batch: ViewBatch, event: Any, fact: Fact) -> None:
    # Only the person id: name and contact details stay sealed in the event (erasable).
    batch.execute(
        "INSERT INTO view_partner_contacts (partner_id, person_id) VALUES (?, ?) "
        "ON CONFLICT (partner_id, person_id) DO NOTHING",
        (fact.record_id, str(event.contact.person_id)),
    )


@HANDLERS.on(P.ContactPersonRemoved, reads=("person_id",))
def contact_removed(batch: ViewBatch, event: Any, fact: Fact) -> None:
    batch.execute(
        "DELETE FROM view_partner_contacts WHERE partner_id = ? AND person_id = ?",
        (fact.record_id, str(event.person_id)),
    )


_STATUS = {
    P.Activated: ("active", "activated"),
    P.Suspended: ("suspended", "suspended"),
    P.Reinstated: ("reinstated", "reinstated"),
    P.Closed: ("closed", "closed"),
}


@HANDLERS.on(*_STATUS, reads=())
def partner_status_changed(batch: ViewBatch, event: Any, fact: Fact) -> None:
    status, verb = _STATUS[type(event)]
    batch.execute(
        "UPDATE view_partners SET status = ?, status_reason = ?, version = ?, updated_at = ?"
        " WHERE partner_id = ?",
        (
            status,
            batch.seal("view_partners", "status_reason", fact.record_id, fact.reason),
            fact.version,
            fact.recorded_at,
            fact.record_id,
        ),
    )
    name = partner_name(batch, fact.record_id)
    add_entry(batch, fact, f"partner_{verb}", f"{name} {verb}", [fact.record_id])
