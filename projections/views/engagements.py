"""Engagements view: each engagement, its partners and roles; feeds partners' last-engaged date.

Title, summary and location are sealed (``projections.schema.SEALED``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.engagement import Engagement, EngagementDetails, EngagementPartner
from domain.valid_time import ValidTime
from projections.batch import Appends, Fact, ViewBatch
from projections.handlers import HANDLERS
from projections.views.timeline import add_entry

E = Engagement


def _span(start: ValidTime, end: ValidTime | None) -> tuple[str, str, str]:
    last = (end or start).end
    return start.start.isoformat(), last.isoformat(), start.precision


def _set_partners(
    batch: ViewBatch, engagement_id: str, partners: Iterable[EngagementPartner]
) -> None:
    batch.execute("DELETE FROM view_engagement_partners WHERE engagement_id = ?", (engagement_id,))
    roles: dict[str, list[str]] = {}
    for partner in partners:
        roles.setdefault(str(partner.partner_id), []).append(partner.role)
    batch.insert_many(
        "view_engagement_partners",
        [
            {"engagement_id": engagement_id, "partner_id": p, "role": ", ".join(r)}
            for p, r in roles.items()
        ],
    )


def refresh_last_engaged(batch: ViewBatch, partner_ids: Iterable[object]) -> None:
    for partner_id in dict.fromkeys(str(p) for p in partner_ids):
        batch.execute(
            "UPDATE view_partners SET last_engaged_on = ("
            " SELECT MAX(e.valid_end) FROM view_engagements e"
            " JOIN view_engagement_partners ep ON ep.engagement_id = e.engagement_id"
            " WHERE ep.partner_id = ?) WHERE partner_id = ?",
            (partner_id, partner_id),
        )


@HANDLERS.on(E.Recorded, reads=("details", "partner_ids"))
def engagement_recorded(batch: ViewBatch, event: Any, fact: Fact) -> None:
    details: EngagementDetails = event.details
    start, end, precision = _span(details.start, details.end)
    batch.insert(
        "view_engagements",
        {
            "engagement_id": fact.record_id,
            "kind": details.kind,
            "title": details.title,
            "summary": details.summary,
            "valid_start": start,
            "valid_end": end,
            "valid_precision": precision,
            "location": "virtual" if details.virtual else details.location,
            "confidentiality": details.confidentiality,
            "non_attribution": int(details.non_attribution),
            "status": "recorded",
            "recorded_at": fact.recorded_at,
            "updated_at": fact.recorded_at,
            "version": fact.version,
        },
    )
    _set_partners(batch, fact.record_id, details.partners)
    refresh_last_engaged(batch, details.partner_ids)
    add_entry(batch, fact, "engagement", f"{details.kind}: {details.title}", event.partner_ids)


@HANDLERS.on(E.Corrected, reads=("changes", "partner_ids"))
def engagement_corrected(batch: ViewBatch, event: Any, fact: Fact) -> None:
    changes: dict[str, Any] = event.changes
    columns: dict[str, Any] = {"status": "corrected"}
    for name in ("kind", "title", "summary", "confidentiality"):
        if name in changes:
            columns[name] = changes[name]
    if "non_attribution" in changes:
        columns["non_attribution"] = int(bool(changes["non_attribution"]))
    if "location" in changes or "virtual" in changes:
        row = batch.query(
            "SELECT engagement_id, location FROM view_engagements WHERE engagement_id = ?",
            (fact.record_id,),
            sealed="view_engagements",
        )
        location = changes.get("location", row[0]["location"] if row else "")
        columns["location"] = "virtual" if changes.get("virtual") else location
    if "start" in changes or "end" in changes:
        row = batch.query(
            "SELECT valid_start, valid_end, valid_precision FROM view_engagements "
            "WHERE engagement_id = ?",
            (fact.record_id,),
        )
        if "start" in changes:
            start: ValidTime = changes["start"]
            columns["valid_start"] = start.start.isoformat()
            columns["valid_precision"] = start.precision
            columns["valid_end"] = (changes.get("end") or start).end.isoformat()
        elif row:
            end: ValidTime | None = changes["end"]
            columns["valid_end"] = end.end.isoformat() if end else row[0]["valid_end"]
    for column in ("title", "summary", "location"):
        if column in columns:
            columns[column] = batch.seal(
                "view_engagements", column, fact.record_id, columns[column]
            )
    assignments = ", ".join(f"{c} = ?" for c in columns)
    batch.execute(
        f"UPDATE view_engagements SET {assignments} WHERE engagement_id = ?",  # noqa: S608
        (*columns.values(), fact.record_id),
    )
    if "partners" in changes:
        _set_partners(batch, fact.record_id, changes["partners"])
    refresh_last_engaged(batch, event.partner_ids)
    title = batch.query(
        "SELECT engagement_id, title FROM view_engagements WHERE engagement_id = ?",
        (fact.record_id,),
        sealed="view_engagements",
    )
    name = title[0]["title"] if title else fact.record_id
    add_entry(batch, fact, "engagement_corrected", f"corrected: {name}", event.partner_ids)


@HANDLERS.on(E.Event, reads=(), appends_only=True)
def touch_engagement(batch: Appends, event: Any, fact: Fact) -> None:
    if not isinstance(event, E.Recorded):
        batch.touch("view_engagements", "engagement_id", fact)
