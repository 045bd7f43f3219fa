"""Exports over HTTP, read through the caller's reader: timelines (CSV, JSON; also for the CLI)
and the audit ledger's signed checkpoint and proofs (as ``registry verify-proof`` reads them)."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status

from api.deps import CurrentActor
from api.graphql import ids
from api.views import RegistryReader
from domain.actors import Actor
from domain.errors import NotFound, RegistryError
from projections.queries.timeline import TimelineEntry
from projections.store import ViewStore
from security.access_log import AccessRecorder
from security.ledger import to_json

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
    """`registry export timeline --partner ID --format csv|json`: the text to write out.

    The read is logged like any other (saved before this returns)."""
    recorder = AccessRecorder(registry)
    reader = RegistryReader(actor, ViewStore.for_application(registry), registry, recorder=recorder)
    text = render(reader.timeline_export(partner_id), fmt)
    recorder.flush()
    return text


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


def http_error(error: RegistryError) -> HTTPException:
    """404 NOT_FOUND, 403 FORBIDDEN, else 400, with the registry's message."""
    if isinstance(error, NotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, detail=error.message)
    code = status.HTTP_403_FORBIDDEN if error.code == "FORBIDDEN" else 400
    return HTTPException(code, detail=str(error))


def _export(reader: RegistryReader, partner_id: str, fmt: Format) -> Response:
    try:
        entries = reader.timeline_export(partner_uuid(partner_id))
    except RegistryError as error:
        raise http_error(error) from error
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


ledger_router = APIRouter(prefix="/ledger", tags=["ledger"])
JSON_MEDIA_TYPE = "application/json; charset=utf-8"


@ledger_router.get("/checkpoint")
def checkpoint_note(
    reader: Annotated[RegistryReader, Depends(_reader)],
    size: Annotated[int | None, Query(ge=0, description="a tree size (default: latest)")] = None,
) -> Response:
    """The latest (or ``size``'s) signed checkpoint, as the signed note text."""
    try:
        found = reader.checkpoint_at(size)
    except RegistryError as error:
        raise http_error(error) from error
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no signed checkpoint of that size")
    return Response(found.note, media_type="text/plain; charset=utf-8")


@ledger_router.get("/proofs/inclusion")
def inclusion_proof_json(
    reader: Annotated[RegistryReader, Depends(_reader)],
    event: Annotated[str, Query(description="event id (history or timeline entry id)")],
    size: Annotated[int | None, Query(ge=1, description="checkpoint tree size")] = None,
) -> Response:
    """Inclusion proof JSON of one event against the latest (or ``size``'s) checkpoint."""
    try:
        record_id, version = ids.decode_event(event)
        proven = reader.inclusion_proof(record_id, version, size)
    except RegistryError as error:
        raise http_error(error) from error
    return Response(to_json(proven.proof), media_type=JSON_MEDIA_TYPE)


@ledger_router.get("/proofs/consistency")
def consistency_proof_json(
    reader: Annotated[RegistryReader, Depends(_reader)],
    old: Annotated[int, Query(alias="from", ge=0, description="older tree size")],
    new: Annotated[int | None, Query(alias="to", ge=0, description="newer tree size")] = None,
) -> Response:
    """Consistency proof JSON from tree size ``from`` to ``to`` (default: latest checkpoint)."""
    try:
        proven = reader.consistency_proof(old, new)
    except RegistryError as error:
        raise http_error(error) from error
    return Response(to_json(proven.proof), media_type=JSON_MEDIA_TYPE)
