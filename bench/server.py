"""The API under uvicorn for the HTTP benchmark, plus a plain FastAPI JSON endpoint (bench only).

``python -m uvicorn --factory bench.server:create``: the registry's own app (settings from
REGISTRY_*), and ``GET /bench/timeline/{partner_id}`` returning the same page of 50 timeline
entries as the GraphQL ``timeline(partnerIds: [...], first: 50)`` query, with the same fields,
the same reader (scope, field rules, access log) and the same signed cursors, but no GraphQL.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request

from api.deps import CurrentActor
from api.graphql import ids
from api.graphql.context import cursor_signer, reader_for
from api.graphql.types.timeline_entry import record_global_id
from api.runtime import build_http_app
from api.settings import Settings
from projections.queries.timeline import TimelineFilter

PAGE = 50


def create() -> FastAPI:
    app = build_http_app(Settings())

    @app.get("/bench/timeline/{partner_id}")
    def plain_timeline(partner_id: str, request: Request, actor: CurrentActor) -> dict[str, Any]:
        reader = reader_for(request, actor)
        wanted = TimelineFilter(partner_ids=(str(ids.decode(partner_id, ids.PARTNER)),))
        page = reader.timeline(wanted, PAGE, None)
        signer = cursor_signer(request.app.state)
        bound = ["timeline", asdict(wanted)]
        edges = [
            {
                "cursor": signer.mint(actor, bound, e.key),
                "node": {
                    "id": ids.encode(ids.TIMELINE_ENTRY, e.entry_id),
                    "eventId": ids.event_id(e.record_id, e.version),
                    "recordId": record_global_id(e.record_type, e.record_id),
                    "version": e.version,
                    "kind": e.kind,
                    "title": e.title,
                    "validTime": {
                        "text": str(e.valid_time),
                        "precision": str(e.valid_time.precision),
                        "start": e.valid_time.start.isoformat(),
                        "end": e.valid_time.end.isoformat(),
                    },
                    "recordedAt": datetime.fromisoformat(e.recorded_at).isoformat(),
                    "recordedLate": e.recorded_late,
                    "partnerIds": [ids.encode(ids.PARTNER, p) for p in e.partner_ids],
                    "partnerKinds": list(e.partner_kinds),
                    "actorId": e.actor_id,
                    "actorRole": e.actor_role,
                    "reason": e.reason,
                },
            }
            for e in page.entries
        ]
        return {"edges": edges, "pageInfo": {"hasNextPage": page.has_next}}

    return app
