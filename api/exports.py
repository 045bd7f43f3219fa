"""Timeline exports (CSV, JSON) over HTTP and for the CLI, read through the caller's reader."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status

from api.deps import CurrentActor
from api.graphql import ids
from api.views import RegistryReader
from domain.actors import Actor
from domain.errors import NotFound, RegistryError
from projections.queries.timeline import TimelineEntry
from projections.store import ViewStore

Format = Literal["csv", "json"]
COLUMNS = (
    "entry_id", "kind", "title", "valid_time", "valid_precision", "valid_start", "valid_end",
    "recorded_at", "recorded_late", "partner_ids", "actor_id", "actor_role", "reason",
    "record_id", "version",
)  # fmt: skip
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json; charset=utf-8"}


def entry_record(entry: TimelineEntry) -> dict[str, Any]:
    """One entry as plain values; dates to their precision ("2020", "2020-03", "2020-03-14")."""
    return {
        "entry_id": entry.entry_id,
        "kind": entry.kind,
        "title": entry.title,
        "valid_time": str(entry.valid_time),
        "valid_precision": entry.valid_time.precision,
        "valid_start": entry.valid_time.start.isoformat(),
        "valid_end": entry.valid_end.isoformat(),
        "recorded_at": entry.recorded_at,
        "recorded_late": entry.recorded_late,
        "partner_ids": list(entry.partner_ids),
        "actor_id": entry.actor_id,
        "actor_role": entry.actor_role,
        "reason": entry.reason,
        "record_id": entry.record_id,
        "version": entry.version,
    }


def neutralised(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = ";".join(value) if isinstance(value, list) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def render(entries: list[TimelineEntry], fmt: Format) -> str:
    records = [entry_record(e) for e in entries]
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for record in records:
        writer.writerow([neutralised(record[c]) for c in COLUMNS])
    return out.getvalue()


def export_timeline(registry: Any, actor: Actor, partner_id: UUID, fmt: Format) -> str:
    """`registry export timeline --partner ID --format csv|json`: the text to write out."""
    reader = RegistryReader(actor, ViewStore.for_application(registry), registry)
    return render(reader.timeline_export(partner_id), fmt)


def partner_uuid(value: str) -> UUID:
    """A raw uuid or a Partner global id."""
    try:
        return UUID(value)
    except ValueError:
        return ids.decode(value, ids.PARTNER)


def _reader(request: Request, actor: CurrentActor) -> RegistryReader:
    from api.graphql.context import reader_for

    return reader_for(request, actor)


exports_router = APIRouter(tags=["exports"])


def _export(reader: RegistryReader, partner_id: str, fmt: Format) -> Response:
    try:
        entries = reader.timeline_export(partner_uuid(partner_id))
    except NotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=error.message) from error
    except RegistryError as error:
        code = status.HTTP_403_FORBIDDEN if error.code == "FORBIDDEN" else 400
        raise HTTPException(code, detail=error.message) from error
    filename = f"partner-{partner_id}-timeline.{fmt}"
    return Response(
        render(entries, fmt),
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@exports_router.get("/partners/{partner_id}/timeline.csv")
def timeline_csv(partner_id: str, reader: Annotated[RegistryReader, Depends(_reader)]) -> Response:
    """The partner's timeline as CSV (UTF-8; formula-like cells prefixed with ')."""
    return _export(reader, partner_id, "csv")


@exports_router.get("/partners/{partner_id}/timeline.json")
def timeline_json(partner_id: str, reader: Annotated[RegistryReader, Depends(_reader)]) -> Response:
    """The partner's timeline as JSON (UTF-8)."""
    return _export(reader, partner_id, "json")
