"""The timeline pages (`/ui/...`): sign-in, a partner's timeline, the portfolio, a record's history,
an event's inclusion proof (with its downloads).

Every page reads through the caller's ``RegistryReader`` (scope, field rules, pseudonyms and
read logging happen there); a page without a valid token cookie redirects to the sign-in form.
"""

from __future__ import annotations

import secrets
import shlex
from collections.abc import Callable, Mapping
from datetime import date
from typing import Annotated, Any
from urllib.parse import parse_qs, quote
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from api.graphql import ids
from api.ui.entries import (
    ASSESSMENTS,
    CATEGORIES,
    PRECISION_LABELS,
    EntryRow,
    category_lanes,
    entry_rows,
    kinds_of,
    partner_href,
    proof_href,
)
from api.ui.layout import (
    Axis,
    Lane,
    RatingPoint,
    lay_out_ratings,
    lay_out_timeline,
    rating_points_in_force,
)
from api.ui.rendering import STYLESHEET, render_page
from api.ui.session import (
    SIGN_IN_PATH,
    CsrfRefusedError,
    actor_from_cookie,
    check_form,
    clear_token_cookie,
    safe_next,
    set_csrf_cookie,
    set_token_cookie,
    sign_in_url,
    verify_pasted,
)
from api.views import AssessmentView, ProvenInclusion, RegistryReader
from domain.actors import PARTNER, Actor
from domain.errors import Forbidden, NotFound, RegistryError, ValidationError
from domain.valid_time import ValidTime
from domain.vocabulary import PARTNER_KINDS
from projections.queries.timeline import MAX_PAGE, TimelineFilter, TimelineKey
from security import permissions
from security.ledger import to_json

ui_router = APIRouter(prefix="/ui", include_in_schema=False)

ROLE_LABELS = {
    "recorder": "recorder",
    "human_rights_officer": "human rights officer",
    "evaluator": "evaluator",
    "partner": "partner organisation",
    "admin": "administrator",
}
MAX_FORM_BYTES = 16_384

Page = Callable[[Actor, RegistryReader], Response]


def _reader(request: Request, actor: Actor) -> RegistryReader:
    # The same facade the GraphQL resolvers and exports read through (and whatever it records).
    from api.graphql.context import reader_for

    return reader_for(request, actor)


def _signed_in(request: Request, page: Page) -> Response:
    """Run ``page`` for the signed-in caller; otherwise send the browser to the sign-in form."""
    actor, why = actor_from_cookie(request)
    if actor is None:
        target = sign_in_url(request) + ("&expired=1" if why else "")
        response = RedirectResponse(target, status_code=303)
        if why:
            clear_token_cookie(request, response)
        return response
    try:
        return page(actor, _reader(request, actor))
    except NotFound as error:
        return _problem(request, actor, 404, "Not found", error.message)
    except Forbidden as error:
        return _problem(request, actor, 403, "Not allowed", error.message)
    except ValidationError as error:
        return _problem(request, actor, 400, "Not understood", error.message)
    except RegistryError as error:
        status = 403 if error.code == "FORBIDDEN" else 400
        return _problem(request, actor, status, "Refused", error.message)


def _problem(
    request: Request, actor: Actor | None, status: int, title: str, message: str
) -> Response:
    return render_page(
        request,
        "problem.html",
        status_code=status,
        actor=actor,
        role_label=ROLE_LABELS.get(actor.role, actor.role) if actor else "",
        title=title,
        message=message,
    )


def _common(actor: Actor) -> dict[str, Any]:
    return {
        "actor": actor,
        "role_label": ROLE_LABELS.get(actor.role, actor.role),
        "may_read_timeline": permissions.allows(actor, "timeline"),
    }


def _uuid(value: str, what: str) -> UUID:
    try:
        return UUID(value)
    except ValueError as error:
        raise NotFound(what, value) from error


# ---- sign-in ------------------------------------------------------------------------------


@ui_router.get("/static/ui.css")
def stylesheet() -> Response:
    """The pages' one stylesheet (screen and print)."""
    return Response(
        STYLESHEET.read_text(encoding="utf-8"),
        media_type="text/css; charset=utf-8",
        headers={"cache-control": "no-cache", "x-content-type-options": "nosniff"},
    )


@ui_router.get("/sign-in")
def sign_in_form(
    request: Request,
    next_page: Annotated[str | None, Query(alias="next")] = None,
    expired: str | None = None,
    signed_out: str | None = None,
) -> Response:
    """The form where a user pastes the bearer token they were given."""
    actor, _ = actor_from_cookie(request)
    notice = None
    if expired:
        notice = "Your token is no longer valid (expired or revoked): paste a new one."
    elif signed_out:
        notice = "You are signed out."
    return render_page(
        request,
        "sign_in.html",
        actor=actor,
        role_label=ROLE_LABELS.get(actor.role, actor.role) if actor else "",
        next_page=safe_next(next_page),
        notice=notice,
        error=None,
    )


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    fields = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=10)
    return {k: v[0] for k, v in fields.items() if v}


@ui_router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    """Verify the pasted token like the API does; keep it in an HttpOnly, SameSite=Strict cookie."""
    form = await _form(request)
    next_page = safe_next(form.get("next"))
    try:
        check_form(request, form.get("csrf", ""))
    except CsrfRefusedError as error:
        return _problem(request, None, 403, "Form refused", str(error))
    try:
        actor = verify_pasted(request, form.get("token", ""))
    except Exception as error:  # TokenError, or a key lookup failure: both mean "not signed in"
        return render_page(
            request,
            "sign_in.html",
            status_code=401,
            actor=None,
            role_label="",
            next_page=next_page,
            notice=None,
            error=str(error),
        )
    if next_page == "/ui/":
        next_page = _home(actor)
    response = RedirectResponse(next_page, status_code=303)
    set_token_cookie(request, response, form.get("token", ""))
    # A fresh form token for the session (the one used before signing in is spent).
    set_csrf_cookie(request, response, secrets.token_urlsafe(32))
    return response


@ui_router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    form = await _form(request)
    try:
        check_form(request, form.get("csrf", ""))
    except CsrfRefusedError as error:
        return _problem(request, None, 403, "Form refused", str(error))
    response = RedirectResponse(f"{SIGN_IN_PATH}?signed_out=1", status_code=303)
    clear_token_cookie(request, response)
    return response


def _home(actor: Actor) -> str:
    if actor.role == PARTNER and actor.organisation_id:
        return partner_href(actor.organisation_id)
    return "/ui/timeline"


@ui_router.get("/")
@ui_router.get("")
def home(request: Request) -> Response:
    """A partner's own page, or the portfolio timeline."""
    return _signed_in(request, lambda actor, _: RedirectResponse(_home(actor), status_code=303))


# ---- one partner --------------------------------------------------------------------------


def _ratings(assessments: list[AssessmentView]) -> dict[str, str | None]:
    return {a.assessment_id: a.rating for a in assessments}


@ui_router.get("/partners/{partner_id}")
def partner_page(request: Request, partner_id: str) -> Response:
    """One partner: profile, timeline on the valid-time axis, risk rating over time, tables."""

    def page(actor: Actor, reader: RegistryReader) -> Response:
        wanted = _uuid(partner_id, "partner")
        partner = reader.partner(wanted)
        details = reader.partner_details([(partner.partner_id, partner.version)])[0]
        assessments = reader.assessments_for([partner.partner_id])[partner.partner_id]
        may_history = permissions.allows(actor, "history")
        rows: list[EntryRow] = []
        timeline_refused = None
        try:
            entries = reader.timelines_for([partner.partner_id])[partner.partner_id]
            rows = entry_rows(
                entries,
                _ratings(assessments),
                {partner.partner_id: partner.name},
                may_read_history=may_history,
            )
        except Forbidden as error:
            timeline_refused = error.message
        points = rating_points_in_force(
            [
                RatingPoint(
                    a.assessment_id,
                    a.title,
                    a.finalised_on,
                    a.rating or "",
                    a.score,
                    a.status,
                    f"/ui/history/{a.assessment_id}" if may_history else "#risk-table",
                )
                for a in assessments
                if a.finalised_on is not None
            ]
        )
        items = [r.chart_item(r.category) for r in rows]
        chart = lay_out_timeline(items, category_lanes()) if rows else None
        risk_axis = _rating_axis(chart.axis if chart else None, points)
        risk_chart = lay_out_ratings(points, axis=risk_axis) if points else None
        return render_page(
            request,
            "partner.html",
            **_common(actor),
            partner=partner,
            details=details,
            rows=rows,
            chart=chart,
            risk_chart=risk_chart,
            points=sorted(points, key=lambda p: p.on),
            timeline_refused=timeline_refused,
            precision_labels=PRECISION_LABELS,
            may_read_history=may_history,
            may_read_proofs=permissions.allows(actor, "inclusionProof"),
            assessments_category=ASSESSMENTS,
        )

    return _signed_in(request, page)


def _rating_axis(axis: Axis | None, points: list[RatingPoint]) -> Axis | None:
    """The timeline's axis when every rating falls on it, so the two charts line up."""
    if axis is not None and all(axis.first <= p.on <= axis.last for p in points):
        return axis
    return None


# ---- the portfolio ------------------------------------------------------------------------


def _day(text: str | None, field: str, *, last: bool) -> date | None:
    """A filter date typed as YYYY, YYYY-MM or YYYY-MM-DD: its first day, or its last (``to``)."""
    if not text or not text.strip():
        return None
    when = ValidTime.parse(text, field=field)
    return when.end if last else when.start


def _after(text: str | None) -> TimelineKey | None:
    if not text:
        return None
    parts = text.split("|")
    if len(parts) != 3:
        raise ValidationError("after", "cursor", "the page position is not understood")
    return (parts[0], parts[1], parts[2])


@ui_router.get("/timeline")
def portfolio_page(
    request: Request,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    kind: Annotated[list[str] | None, Query(max_length=40)] = None,
    partner_kind: Annotated[list[str] | None, Query(max_length=60)] = None,
    after: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Entries across partners (as far as the caller may see), filtered by a GET form."""
    chosen_categories = [k for k in (kind or []) if k in CATEGORIES]
    chosen_partner_kinds = [k for k in (partner_kind or []) if k in PARTNER_KINDS]
    form = {
        "from": start or "",
        "to": end or "",
        "kinds": chosen_categories,
        "partner_kinds": chosen_partner_kinds,
    }

    def page(actor: Actor, reader: RegistryReader) -> Response:
        try:
            first_day = _day(start, "from", last=False)
            last_day = _day(end, "to", last=True)
            position = _after(after)
        except ValidationError as error:
            return render_page(
                request,
                "timeline.html",
                status_code=400,
                **_common(actor),
                **_portfolio_context(form),
                error=error.message,
                rows=[],
                chart=None,
                next_after=None,
                precision_labels=PRECISION_LABELS,
                may_read_history=False,
                may_read_proofs=False,
            )
        timeline_filter = TimelineFilter(
            start=first_day,
            end=last_day,
            kinds=kinds_of(chosen_categories),
            partner_kinds=tuple(chosen_partner_kinds),
        )
        found = reader.timeline(timeline_filter, MAX_PAGE, position)
        partner_ids = sorted({p for e in found.entries for p in e.partner_ids})
        partners = reader.partners(partner_ids) if partner_ids else {}
        names = {p: v.acronym or v.name for p, v in partners.items()}
        ratings: dict[str, str | None] = {}
        if any(e.kind.startswith("assessment") for e in found.entries):
            for assessments in reader.assessments_for(partner_ids).values():
                ratings.update(_ratings(assessments))
        may_history = permissions.allows(actor, "history")
        rows = entry_rows(found.entries, ratings, names, may_read_history=may_history)
        lanes = sorted(
            (Lane(p, names.get(p, p), partner_href(p)) for p in partners),
            key=lambda lane: lane.label.casefold(),
        )
        items = [r.chart_item(p) for r in rows for p, _ in r.partners]
        chart = lay_out_timeline(items, lanes) if items else None
        next_after = "|".join(found.entries[-1].key) if found.has_next and found.entries else None
        return render_page(
            request,
            "timeline.html",
            **_common(actor),
            **_portfolio_context(form),
            error=None,
            rows=rows,
            chart=chart,
            next_after=next_after,
            precision_labels=PRECISION_LABELS,
            may_read_history=may_history,
            may_read_proofs=permissions.allows(actor, "inclusionProof"),
        )

    return _signed_in(request, page)


def _portfolio_context(form: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "form": form,
        "categories": [(key, label) for key, (label, _) in CATEGORIES.items()],
        "partner_kinds": sorted(PARTNER_KINDS, key=str.casefold),
        "page_size": MAX_PAGE,
    }


# ---- one record's history -----------------------------------------------------------------


@ui_router.get("/history/{record_id}")
def history_page(request: Request, record_id: str) -> Response:
    """Every event of one record (partner, engagement, assessment or decision), oldest first."""

    def page(actor: Actor, reader: RegistryReader) -> Response:
        wanted = _uuid(record_id, "record")
        events = reader.history(wanted)
        concerned = sorted(reader.record_partners(wanted))
        visible = reader.partners(concerned) if concerned else {}
        return render_page(
            request,
            "history.html",
            **_common(actor),
            record_id=str(wanted),
            events=events,
            partners=[(p, v.acronym or v.name) for p, v in visible.items()],
            may_read_proofs=permissions.allows(actor, "inclusionProof"),
            proof_href=proof_href,
        )

    return _signed_in(request, page)


# ---- one event's inclusion proof ----------------------------------------------------------


def _proof_name(record_id: UUID, version: int) -> str:
    return f"proof-{record_id}-v{version}"


def _proven(reader: RegistryReader, event: str, size: int | None) -> ProvenInclusion:
    """The event's inclusion proof (NOT_FOUND for another partner's event or a bad id)."""
    record_id, version = ids.decode_event(event)
    return reader.inclusion_proof(record_id, version, size)


def _download(text: str, media_type: str, filename: str) -> Response:
    return Response(
        text,
        media_type=media_type,
        headers={
            "content-disposition": f'attachment; filename="{filename}"',
            "cache-control": "no-store",
            "x-content-type-options": "nosniff",
        },
    )


ProofSize = Annotated[int | None, Query(ge=1, description="checkpoint tree size")]


# The downloads come first: "{event}" would match "<id>.json" too.
@ui_router.get("/proofs/{event}.json")
def proof_download(request: Request, event: str, size: ProofSize = None) -> Response:
    """The proof JSON (as ``registry verify-proof --proof`` reads it), as a download."""

    def page(_actor: Actor, reader: RegistryReader) -> Response:
        proven = _proven(reader, event, size)
        stream, version = ids.decode_event(event)
        return _download(
            to_json(proven.proof) + "\n",
            "application/json; charset=utf-8",
            _proof_name(stream, version) + ".json",
        )

    return _signed_in(request, page)


@ui_router.get("/proofs/{event}.checkpoint")
def proof_checkpoint_download(request: Request, event: str, size: ProofSize = None) -> Response:
    """The signed checkpoint the proof is checked against, as a download."""

    def page(_actor: Actor, reader: RegistryReader) -> Response:
        proven = _proven(reader, event, size)
        return _download(
            proven.checkpoint.note,
            "text/plain; charset=utf-8",
            f"checkpoint-{proven.checkpoint.tree_size}.txt",
        )

    return _signed_in(request, page)


@ui_router.get("/proofs/{event}")
def proof_page(request: Request, event: str, size: ProofSize = None) -> Response:
    """One event's inclusion proof: the signed checkpoint, the leaf, the path, the verifier key,
    downloads and the command that checks them offline."""

    def page(actor: Actor, reader: RegistryReader) -> Response:
        proven = _proven(reader, event, size)
        record_id, version = ids.decode_event(event)
        proof, checkpoint = proven.proof, proven.checkpoint
        key = reader.verifier_key()
        event_id = f"{record_id}:{version}"
        base = f"/ui/proofs/{quote(event_id, safe='')}"
        pinned = f"?size={checkpoint.tree_size}"
        proof_file = _proof_name(record_id, version) + ".json"
        checkpoint_file = f"checkpoint-{checkpoint.tree_size}.txt"
        command = shlex.join(
            [
                "registry", "verify-proof",
                "--public-key", key or "VERIFIER-KEY",
                "--checkpoint", checkpoint_file,
                "--proof", proof_file,
            ]
        )  # fmt: skip
        return render_page(
            request,
            "proof.html",
            **_common(actor),
            record_id=str(record_id),
            version=version,
            event_id=event_id,
            proof=proof,
            path=[p.hex() for p in proof.path],
            checkpoint=checkpoint,
            verifier_key=key,
            json_href=f"{base}.json{pinned}",
            checkpoint_href=f"{base}.checkpoint{pinned}",
            proof_file=proof_file,
            checkpoint_file=checkpoint_file,
            command=command,
            may_read_history=permissions.allows(actor, "history"),
        )

    return _signed_in(request, page)
