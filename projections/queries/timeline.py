"""Timeline across partners: date overlap (month/year aware), kinds, partners, keyset pages.

Order and filters use clear columns (valid and recorded time, kind, ids); titles and reasons
are sealed and decrypted for the entries returned.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.valid_time import ValidTime
from projections.queries.scope import Scope, id_list, scoped
from projections.store import Row, ViewStore

TimelineKey = tuple[str, str, str]
"""Keyset position: (valid start, recorded time, entry id) of the previous page's last entry."""

MAX_PAGE = 100


@dataclass(frozen=True)
class TimelineFilter:
    start: date | None = None
    """Entries whose valid period ends on or after this day ("2020" overlaps 2020-12-31)."""
    end: date | None = None
    """Entries whose valid period starts on or before this day."""
    kinds: tuple[str, ...] = ()
    partner_ids: tuple[str, ...] = ()
    partner_kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class TimelineEntry:
    entry_id: str
    record_id: str
    version: int
    record_type: str
    kind: str
    title: str
    valid_time: ValidTime
    valid_end: date
    recorded_at: str
    actor_id: str
    actor_role: str
    reason: str
    recorded_late: bool
    partner_ids: tuple[str, ...]
    partner_kinds: tuple[str, ...]
    key: TimelineKey


@dataclass(frozen=True)
class TimelinePage:
    entries: tuple[TimelineEntry, ...]
    has_next: bool


_COLUMNS = (
    "t.entry_id, t.record_id, t.version, t.record_type, t.kind, t.title, t.valid_start,"
    " t.valid_end, t.valid_precision, t.recorded_at, t.actor_id, t.actor_role, t.reason,"
    " t.recorded_late"
)
_ORDER = " ORDER BY t.valid_start, t.recorded_at, t.entry_id"


def timeline(
    store: ViewStore,
    timeline_filter: TimelineFilter | None = None,
    *,
    first: int = 50,
    after: TimelineKey | None = None,
    scope: Scope,
) -> TimelinePage:
    """Entries in (valid time, recorded time) order; ``first`` capped at MAX_PAGE."""
    limit = max(0, min(first, MAX_PAGE))
    where, params = _where(timeline_filter or TimelineFilter(), scope)
    if after is not None:
        where.append(
            "(t.valid_start > ? OR (t.valid_start = ? AND (t.recorded_at > ?"
            " OR (t.recorded_at = ? AND t.entry_id > ?))))"
        )
        params += [after[0], after[0], after[1], after[1], after[2]]
    rows = store.query(
        f"SELECT {_COLUMNS} FROM view_timeline t WHERE {' AND '.join(where)}"  # noqa: S608
        f"{_ORDER} LIMIT ?",
        [*params, limit + 1],
    )
    entries = _entries(store, rows[:limit], scope)
    return TimelinePage(tuple(entries), has_next=len(rows) > limit)


def timelines_for_partners(
    store: ViewStore,
    partner_ids: Iterable[object],
    timeline_filter: TimelineFilter | None = None,
    *,
    scope: Scope,
) -> dict[str, list[TimelineEntry]]:
    """Batch loader: every partner's timeline in one query (plus one for the entries' partners)."""
    wanted = [str(p) for p in partner_ids]
    ids, id_params = id_list("tp.partner_id", wanted)
    where, params = _where(timeline_filter or TimelineFilter(), scope)
    rows = store.query(
        f"SELECT tp.partner_id AS for_partner, {_COLUMNS} FROM view_timeline_partners tp"  # noqa: S608
        " JOIN view_timeline t ON t.entry_id = tp.entry_id"
        f" WHERE {ids} AND {' AND '.join(where)}{_ORDER}",
        [*id_params, *params],
    )
    entries = {e.entry_id: e for e in _entries(store, rows, scope)}
    found: dict[str, list[TimelineEntry]] = {p: [] for p in wanted}
    for row in rows:
        allowed = scope is None or row["for_partner"] in scope
        if allowed:
            found[row["for_partner"]].append(entries[row["entry_id"]])
    return found


def _where(f: TimelineFilter, scope: Scope) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if scope is not None:
        allowed, scope_params = scoped("s.partner_id", scope)
        where.append(
            "EXISTS (SELECT 1 FROM view_timeline_partners s"  # noqa: S608 (fixed names, bound values)
            f" WHERE s.entry_id = t.entry_id AND {allowed})"
        )
        params += scope_params
    if f.start is not None:
        where.append("t.valid_end >= ?")
        params.append(f.start.isoformat())
    if f.end is not None:
        where.append("t.valid_start <= ?")
        params.append(f.end.isoformat())
    if f.kinds:
        condition, kind_params = id_list("t.kind", f.kinds)
        where.append(condition)
        params += kind_params
    if f.partner_ids or f.partner_kinds:
        conditions = []
        if f.partner_ids:
            condition, partner_params = id_list("p.partner_id", f.partner_ids)
            conditions.append(condition)
            params += partner_params
        if f.partner_kinds:
            condition, kind_params = id_list("pp.kind", f.partner_kinds)
            conditions.append(
                "EXISTS (SELECT 1 FROM view_partners pp"  # noqa: S608 (fixed names, bound values)
                f" WHERE pp.partner_id = p.partner_id AND {condition})"
            )
            params += kind_params
        where.append(
            "EXISTS (SELECT 1 FROM view_timeline_partners p"  # noqa: S608 (fixed names, bound values)
            f" WHERE p.entry_id = t.entry_id AND {' AND '.join(conditions)})"
        )
    return where or ["1 = 1"], params


def _entries(store: ViewStore, rows: list[Row], scope: Scope) -> list[TimelineEntry]:
    if not rows:
        return []
    ids, params = id_list("tp.entry_id", (r["entry_id"] for r in rows))
    partners: dict[str, list[tuple[str, str]]] = {}
    for row in store.query(
        "SELECT tp.entry_id, tp.partner_id, COALESCE(p.kind, '') AS kind"  # noqa: S608
        " FROM view_timeline_partners tp"
        " LEFT JOIN view_partners p ON p.partner_id = tp.partner_id"
        f" WHERE {ids} ORDER BY tp.entry_id, tp.partner_id",
        params,
    ):
        if _visible(row["partner_id"], scope):
            partners.setdefault(row["entry_id"], []).append((row["partner_id"], row["kind"]))
    entries: dict[str, TimelineEntry] = {}
    open_value = store.cipher.open
    for r in rows:
        if r["entry_id"] in entries:
            continue
        concerned = partners.get(r["entry_id"], [])
        title = open_value("view_timeline", "title", r["entry_id"], r["title"])
        reason = open_value("view_timeline", "reason", r["entry_id"], r["reason"])
        entries[r["entry_id"]] = TimelineEntry(
            entry_id=r["entry_id"],
            record_id=r["record_id"],
            version=int(r["version"]),
            record_type=r["record_type"],
            kind=r["kind"],
            title=title or "",
            valid_time=ValidTime(date.fromisoformat(r["valid_start"]), r["valid_precision"]),
            valid_end=date.fromisoformat(r["valid_end"]),
            recorded_at=r["recorded_at"],
            actor_id=r["actor_id"],
            actor_role=r["actor_role"],
            reason=reason or "",
            recorded_late=bool(r["recorded_late"]),
            partner_ids=tuple(p for p, _ in concerned),
            partner_kinds=tuple(dict.fromkeys(k for _, k in concerned if k)),
            key=(r["valid_start"], r["recorded_at"], r["entry_id"]),
        )
    return list(entries.values())


def _visible(partner_id: str, scope: Collection[str] | None) -> bool:
    return scope is None or partner_id in scope
