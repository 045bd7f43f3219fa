"""Who read a partner's record between two instants: rows of the access-log view, oldest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from projections.batch import iso_instant
from projections.queries.scope import Scope
from projections.store import ViewStore

Bound = date | datetime | None
"""A date (whole UTC day, inclusive), an instant, or no bound."""


@dataclass(frozen=True)
class AccessLogEntry:
    partner_id: str
    read_at: str
    actor_id: str
    actor_role: str
    operation: str


def access_log(
    store: ViewStore,
    partner_id: object,
    start: Bound = None,
    end: Bound = None,
    *,
    scope: Scope,
    limit: int | None = None,
) -> list[AccessLogEntry]:
    """Reads of ``partner_id``'s record from ``start`` to ``end`` (both inclusive), oldest first.

    A partner outside ``scope`` has no entries. ``end`` as a date covers that whole day.
    """
    partner = str(partner_id)
    if scope is not None and partner not in scope:
        return []
    where, params = ["partner_id = ?"], [partner]
    if start is not None:
        where.append("read_at >= ?")
        params.append(_instant(start, next_day=False))
    if end is not None:
        where.append("read_at < ?" if not isinstance(end, datetime) else "read_at <= ?")
        params.append(_instant(end, next_day=not isinstance(end, datetime)))
    sql = (
        "SELECT partner_id, read_at, actor_id, actor_role, operation FROM view_access_log"  # noqa: S608
        f" WHERE {' AND '.join(where)} ORDER BY read_at, record_id, version, entry"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [AccessLogEntry(**row) for row in store.query(sql, params)]


def _instant(bound: date | datetime, *, next_day: bool) -> str:
    if isinstance(bound, datetime):
        return iso_instant(bound if bound.tzinfo else bound.replace(tzinfo=UTC))
    day = bound + timedelta(days=1) if next_day else bound
    return iso_instant(datetime.combine(day, time(), tzinfo=UTC))
