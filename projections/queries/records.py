"""Per-record reads: history, engagements, assessments, decisions, mitigations, risk register.

Every loader takes many partner (or record) ids and answers with one query, so nested lists
in a GraphQL page never cost a query per row. Sealed columns (reasons, titles, summaries,
locations, measures, owners) come back decrypted (``ViewStore.query(..., sealed=table)``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from projections.queries.scope import Scope, id_list, scoped
from projections.store import Row, ViewStore


@dataclass(frozen=True)
class HistoryEvent:
    record_id: str
    version: int
    record_type: str
    event_type: str
    actor_id: str
    actor_role: str
    reason: str
    recorded_at: str
    valid_start: str
    valid_end: str
    valid_precision: str
    position: int


def record_partner_ids(store: ViewStore, record_ids: Iterable[object]) -> dict[str, set[str]]:
    """The partners each record concerns (a partner concerns itself), for scope checks."""
    wanted = [str(r) for r in record_ids]
    found: dict[str, set[str]] = {r: set() for r in wanted}
    for table, column in (
        ("view_partners", "partner_id"),
        ("view_engagement_partners", "engagement_id"),
        ("view_assessments", "assessment_id"),
        ("view_decisions", "decision_id"),
    ):
        ids, params = id_list(column, wanted)
        for row in store.query(
            f"SELECT {column} AS record_id, partner_id FROM {table} WHERE {ids}",  # noqa: S608
            params,
        ):
            found[row["record_id"]].add(row["partner_id"])
    return found


def histories(
    store: ViewStore, record_ids: Iterable[object], *, scope: Scope
) -> dict[str, list[HistoryEvent]]:
    """Every event of each record, by version; records outside ``scope`` come back empty."""
    wanted = [str(r) for r in record_ids]
    if scope is not None:
        concerns = record_partner_ids(store, wanted)
        wanted = [r for r in wanted if concerns[r] & set(scope)]
    ids, params = id_list("record_id", wanted)
    found: dict[str, list[HistoryEvent]] = {str(r): [] for r in record_ids}
    for row in store.query(
        "SELECT record_id, version, record_type, event_type, actor_id, actor_role, reason,"  # noqa: S608
        " recorded_at, valid_start, valid_end, valid_precision, position"
        f" FROM view_history WHERE {ids} ORDER BY record_id, version",
        params,
        sealed="view_history",
    ):
        found[row["record_id"]].append(HistoryEvent(**row))
    return found


def history(store: ViewStore, record_id: object, *, scope: Scope) -> list[HistoryEvent]:
    return histories(store, [record_id], scope=scope)[str(record_id)]


def version_as_of(store: ViewStore, record_id: object, recorded_at: str) -> int | None:
    """The record's version as recorded at that instant (ISO UTC text), None if it did not exist."""
    rows = store.query(
        "SELECT MAX(version) AS v FROM view_history WHERE record_id = ? AND recorded_at <= ?",
        (str(record_id), recorded_at),
    )
    value = rows[0]["v"] if rows else None
    return None if value is None else int(value)


def _by_partner(
    store: ViewStore,
    sql: str,
    partner_ids: Iterable[object],
    scope: Scope,
    order: str,
    sealed: str | None = None,
) -> dict[str, list[Row]]:
    wanted = [str(p) for p in partner_ids]
    ids, params = id_list("x.partner_id", wanted)
    allowed, scope_params = scoped("x.partner_id", scope)
    found: dict[str, list[Row]] = {p: [] for p in wanted}
    for row in store.query(
        f"{sql} WHERE {ids} AND {allowed} ORDER BY {order}",
        [*params, *scope_params],
        sealed=sealed,
    ):
        found[row["partner_id"]].append(row)
    return found


def engagements_for_partners(
    store: ViewStore, partner_ids: Iterable[object], *, scope: Scope
) -> dict[str, list[Row]]:
    """Each partner's engagements (with its role), latest first."""
    return _by_partner(
        store,
        "SELECT x.partner_id, x.role, e.* FROM view_engagement_partners x"
        " JOIN view_engagements e ON e.engagement_id = x.engagement_id",
        partner_ids,
        scope,
        "e.valid_start DESC, e.recorded_at DESC, e.engagement_id",
        "view_engagements",
    )


def engagements_ever_linked(
    store: ViewStore, partner_ids: Iterable[object], *, scope: Scope
) -> dict[str, list[Row]]:
    """Each partner's engagements that ever named it (rows of ``engagement_id``).

    ``view_engagement_partners`` holds the partners an engagement names now; one corrected
    to drop a partner no longer links it there. Every change of an engagement's partners is
    an event on the timeline linked to the partners before and after it (``Corrected``'s
    ``partner_ids``), so the timeline's links are the partners it ever named: what
    ``partner(asOf)`` starts from before reading each engagement as it stood then.
    """
    return _by_partner(
        store,
        "SELECT DISTINCT x.partner_id, t.record_id AS engagement_id FROM view_timeline_partners x"
        " JOIN view_timeline t ON t.entry_id = x.entry_id AND t.record_type = 'Engagement'",
        partner_ids,
        scope,
        "engagement_id",
    )


def assessments_for_partners(
    store: ViewStore, partner_ids: Iterable[object], *, scope: Scope
) -> dict[str, list[Row]]:
    """Each partner's risk assessments, latest first."""
    return _by_partner(
        store,
        "SELECT x.* FROM view_assessments x",
        partner_ids,
        scope,
        "x.opened_on DESC, x.recorded_at DESC, x.assessment_id",
        "view_assessments",
    )


def decisions_for_partners(
    store: ViewStore, partner_ids: Iterable[object], *, scope: Scope
) -> dict[str, list[Row]]:
    """Each partner's due-diligence decisions, latest first."""
    return _by_partner(
        store,
        "SELECT x.* FROM view_decisions x",
        partner_ids,
        scope,
        "x.proposed_at DESC, x.decision_id",
    )


def open_mitigations_for_partners(
    store: ViewStore, partner_ids: Iterable[object], *, scope: Scope
) -> dict[str, list[Row]]:
    """Mitigations not done or dropped, of each partner's live assessments."""
    return _by_partner(
        store,
        "SELECT x.* FROM view_mitigations x JOIN view_assessments a"
        " ON a.assessment_id = x.assessment_id AND a.status NOT IN ('superseded', 'withdrawn')"
        " AND x.status NOT IN ('done', 'dropped')",
        partner_ids,
        scope,
        "x.due_on, x.assessment_id, x.mitigation_id",
        "view_mitigations",
    )


@dataclass(frozen=True)
class RiskRegisterFilter:
    ratings: tuple[str, ...] = ()
    partner_ids: tuple[str, ...] = ()
    only_overdue: bool = False


@dataclass(frozen=True)
class RiskRegisterRow:
    partner_id: str
    name: str
    kind: str
    status: str
    current_rating: str | None
    open_mitigations: tuple[Row, ...]
    overdue_decisions: tuple[Row, ...]


def risk_register(
    store: ViewStore,
    register_filter: RiskRegisterFilter | None = None,
    *,
    today: date,
    scope: Scope,
) -> list[RiskRegisterRow]:
    """Partners with a rating, open mitigations or overdue reviews: four queries in all."""
    f = register_filter or RiskRegisterFilter()
    allowed, params = scoped("p.partner_id", scope)
    where = [allowed]
    if f.ratings:
        condition, rating_params = id_list("p.current_rating", f.ratings)
        where.append(condition)
        params += rating_params
    if f.partner_ids:
        condition, id_params = id_list("p.partner_id", f.partner_ids)
        where.append(condition)
        params += id_params
    partners = store.query(
        "SELECT p.partner_id, p.name, p.kind, p.status, p.current_rating FROM view_partners p"  # noqa: S608
        f" WHERE {' AND '.join(where)}",
        params,
        sealed="view_partners",
    )
    # Names are sealed: ordered here, by (case-folded name, id) as the partners list is.
    partners.sort(key=lambda p: (str(p["name"]).casefold(), str(p["partner_id"])))
    ids = [p["partner_id"] for p in partners]
    mitigations = open_mitigations_for_partners(store, ids, scope=scope)
    overdue = overdue_decisions_for_partners(store, ids, today=today, scope=scope)
    rows = [
        RiskRegisterRow(
            partner_id=p["partner_id"],
            name=p["name"],
            kind=p["kind"],
            status=p["status"],
            current_rating=p["current_rating"],
            open_mitigations=tuple(mitigations[p["partner_id"]]),
            overdue_decisions=tuple(overdue[p["partner_id"]]),
        )
        for p in partners
    ]
    return [
        r
        for r in rows
        if (
            r.overdue_decisions
            if f.only_overdue
            else (r.current_rating or r.open_mitigations or r.overdue_decisions)
        )
    ]


def overdue_decisions_for_partners(
    store: ViewStore, partner_ids: Iterable[object], *, today: date, scope: Scope
) -> dict[str, list[Row]]:
    """Approved decisions whose review due date has passed."""
    wanted = [str(p) for p in partner_ids]
    ids, params = id_list("x.partner_id", wanted)
    allowed, scope_params = scoped("x.partner_id", scope)
    found: dict[str, list[Row]] = {p: [] for p in wanted}
    args: list[Any] = [*params, *scope_params, today.isoformat()]
    for row in store.query(
        f"SELECT x.* FROM view_decisions x WHERE {ids} AND {allowed}"  # noqa: S608
        " AND x.review_due IS NOT NULL AND x.review_due < ?"
        " AND x.outcome IN ('approved', 'approved with conditions')"
        " ORDER BY x.review_due, x.decision_id",
        args,
    ):
        found[row["partner_id"]].append(row)
    return found
