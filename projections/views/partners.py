"""Partners view: each organisation's current profile, status and rating, for lists and filters."""

from __future__ import annotations

from typing import Any

from domain.partner import PartnerOrganisation, Profile
from projections.batch import Fact, ViewBatch
from projections.handlers import HANDLERS
from projections.views.timeline import add_entry

P = PartnerOrganisation


def search_text(profile: Profile) -> str:
    """Case-folded words a free-text search matches: name, acronym, former names."""
    return " ".join(
        p.casefold() for p in (profile.name, profile.acronym, *profile.former_names) if p
    )


def _profile_columns(profile: Profile) -> dict[str, Any]:
    return {
        "name": profile.name,
        "sort_name": profile.name.casefold(),
        "acronym": profile.acronym,
        "search_text": search_text(profile),
        "kind": profile.kind,
        "scope": profile.scope,
        "mission_context": profile.mission_context,
        "external_id": profile.external_id,
    }


def _replace_lists(batch: ViewBatch, partner_id: str, profile: Profile) -> None:
    batch.execute("DELETE FROM view_partner_countries WHERE partner_id = ?", (partner_id,))
    batch.execute("DELETE FROM view_partner_focus_areas WHERE partner_id = ?", (partner_id,))
    batch.insert_many(
        "view_partner_countries",
        [{"partner_id": partner_id, "country": c} for c in dict.fromkeys(profile.countries)],
    )
    batch.insert_many(
        "view_partner_focus_areas",
        [{"partner_id": partner_id, "focus_area": f} for f in dict.fromkeys(profile.focus_areas)],
    )


def partner_name(batch: ViewBatch, partner_id: str) -> str:
    known = batch.memo.get(("partner_name", partner_id))
    if known is not None:
        return str(known)
    rows = batch.query("SELECT name FROM view_partners WHERE partner_id = ?", (partner_id,))
    return str(rows[0]["name"]) if rows else partner_id


@HANDLERS.on(P.Event)
def touch_partner(batch: ViewBatch, event: Any, fact: Fact) -> None:
    """Every partner event moves the row's version and last-change time."""
    if not isinstance(event, (P.Registered, *_STATUS)):
        batch.execute(
            "UPDATE view_partners SET version = ?, updated_at = ? WHERE partner_id = ?",
            (fact.version, fact.recorded_at, fact.record_id),
        )


@HANDLERS.on(P.Registered)
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
    _replace_lists(batch, fact.record_id, profile)
    batch.memo["partner_name", fact.record_id] = profile.name
    add_entry(batch, fact, "partner_registered", f"{profile.name} registered", [fact.record_id])


@HANDLERS.on(P.ProfileUpdated)
def partner_profile_updated(batch: ViewBatch, event: Any, fact: Fact) -> None:
    columns = _profile_columns(event.profile)
    assignments = ", ".join(f"{column} = ?" for column in columns)
    batch.execute(
        f"UPDATE view_partners SET {assignments} WHERE partner_id = ?",  # noqa: S608 (fixed names)
        (*columns.values(), fact.record_id),
    )
    _replace_lists(batch, fact.record_id, event.profile)
    batch.memo["partner_name", fact.record_id] = event.profile.name


@HANDLERS.on(P.ContactPersonAdded)
def contact_added(batch: ViewBatch, event: Any, fact: Fact) -> None:
    # Only the person id: name and contact details stay sealed in the event (erasable).
    batch.execute(
        "INSERT INTO view_partner_contacts (partner_id, person_id) VALUES (?, ?) "
        "ON CONFLICT (partner_id, person_id) DO NOTHING",
        (fact.record_id, str(event.contact.person_id)),
    )


@HANDLERS.on(P.ContactPersonRemoved)
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


@HANDLERS.on(*_STATUS)
def partner_status_changed(batch: ViewBatch, event: Any, fact: Fact) -> None:
    status, verb = _STATUS[type(event)]
    batch.execute(
        "UPDATE view_partners SET status = ?, status_reason = ?, version = ?, updated_at = ?"
        " WHERE partner_id = ?",
        (status, fact.reason, fact.version, fact.recorded_at, fact.record_id),
    )
    name = partner_name(batch, fact.record_id)
    add_entry(batch, fact, f"partner_{verb}", f"{name} {verb}", [fact.record_id])
