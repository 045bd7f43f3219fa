"""Partners list: filters, free-text search, keyset pages by (name, id), batch loading.

Names are sealed in the view (``projections.crypto``), so the database can neither sort by
them nor search them:

- **Order.** A page selects the candidates' ids and sealed names (filters on clear columns and
  the blind index still run in SQL), decrypts the names, sorts by (case-folded name, id) in
  Python and loads the page's rows. The keyset cursor is unchanged: (case-folded name, id)
  of the previous page's last row; Python's string order is code-point order, the byte order
  the former ``COLLATE "C"`` index used. Cost grows with the number of candidates (a mission
  has at most a few thousand partners; measured 22-40 ms per page with 5,000 on SQLite on a
  busy 2-core machine, against under 1 ms with the former plaintext index).
- **Search** (``PartnerFilter.search``) uses the blind index: a partner matches when every word
  of the search is a word, or the start of a word (3+ characters), of its name, acronym or a
  former name, accents and case ignored, in any order. This replaces substring matching:
  "paix" and "femmes paix" find "Femmes pour la Paix", "emmes" does not.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from projections.queries.scope import Scope, id_list, scoped
from projections.store import Row, ViewStore

PartnerKey = tuple[str, str]
"""Keyset position: (case-folded name, partner id) of the last row of the previous page."""

MAX_PAGE = 100


@dataclass(frozen=True)
class PartnerFilter:
    """Every field narrows the list; tuples match any of their values."""

    kinds: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    ratings: tuple[str, ...] = ()
    focus_areas: tuple[str, ...] = ()
    search: str | None = None
    not_engaged_since: date | None = None
    """Partners with no engagement ending on or after this day (or none at all)."""


@dataclass(frozen=True)
class PartnerRow:
    partner_id: str
    name: str
    acronym: str
    kind: str
    scope: str
    status: str
    status_reason: str
    mission_context: str
    external_id: str
    current_rating: str | None
    last_engaged_on: date | None
    countries: tuple[str, ...]
    focus_areas: tuple[str, ...]
    registered_at: str
    updated_at: str
    version: int
    key: PartnerKey


@dataclass(frozen=True)
class PartnerPage:
    rows: tuple[PartnerRow, ...]
    has_next: bool


_COLUMNS = (
    "partner_id, name, acronym, kind, scope, status, status_reason, mission_context,"
    " external_id, current_rating, last_engaged_on, registered_at, updated_at, version"
)


def list_partners(
    store: ViewStore,
    partner_filter: PartnerFilter | None = None,
    *,
    first: int = 20,
    after: PartnerKey | None = None,
    scope: Scope,
) -> PartnerPage:
    """One page (at most MAX_PAGE rows) after ``after``, ordered by (name, id)."""
    limit = max(0, min(first, MAX_PAGE))
    where, params = _where(store, partner_filter or PartnerFilter(), scope)
    keys = sorted(
        (str(r["name"]).casefold(), str(r["partner_id"]))
        for r in store.query(
            f"SELECT partner_id, name FROM view_partners WHERE {' AND '.join(where)}",  # noqa: S608
            params,
            sealed="view_partners",
            cache=True,
        )
    )
    start = 0 if after is None else bisect_right(keys, (str(after[0]), str(after[1])))
    chosen = keys[start : start + limit]
    if not chosen:
        return PartnerPage((), has_next=len(keys) > start)
    ids, id_params = id_list("partner_id", (k[1] for k in chosen))
    rows = {
        r.partner_id: r
        for r in _with_lists(
            store,
            store.query(
                f"SELECT {_COLUMNS} FROM view_partners WHERE {ids}",  # noqa: S608
                id_params,
                sealed="view_partners",
            ),
        )
    }
    page = tuple(rows[k[1]] for k in chosen if k[1] in rows)
    return PartnerPage(page, has_next=len(keys) > start + limit)


def count_partners(
    store: ViewStore, partner_filter: PartnerFilter | None = None, *, scope: Scope
) -> int:
    where, params = _where(store, partner_filter or PartnerFilter(), scope)
    rows = store.query(
        f"SELECT COUNT(*) AS n FROM view_partners WHERE {' AND '.join(where)}",  # noqa: S608
        params,
    )
    return int(rows[0]["n"])


def load_partners(
    store: ViewStore, partner_ids: Iterable[object], *, scope: Scope
) -> dict[str, PartnerRow]:
    """Batch loader: the rows of many partners in two queries; unknown or out-of-scope omitted."""
    ids, id_params = id_list("partner_id", partner_ids)
    allowed, scope_params = scoped("partner_id", scope)
    rows = store.query(
        f"SELECT {_COLUMNS} FROM view_partners WHERE {ids} AND {allowed}",  # noqa: S608
        [*id_params, *scope_params],
        sealed="view_partners",
    )
    return {row.partner_id: row for row in _with_lists(store, rows)}


def _where(store: ViewStore, f: PartnerFilter, scope: Scope) -> tuple[list[str], list[Any]]:
    allowed, params = scoped("partner_id", scope)
    where = [allowed]
    for column, values in (
        ("kind", f.kinds),
        ("scope", f.scopes),
        ("status", f.statuses),
        ("current_rating", f.ratings),
    ):
        if values:
            condition, values_params = id_list(column, values)
            where.append(condition)
            params += values_params
    for table, column, values in (
        ("view_partner_countries", "country", f.countries),
        ("view_partner_focus_areas", "focus_area", f.focus_areas),
    ):
        if values:
            condition, values_params = id_list(f"x.{column}", values)
            where.append(
                f"EXISTS (SELECT 1 FROM {table} x"  # noqa: S608 (fixed table names)
                f" WHERE x.partner_id = view_partners.partner_id AND {condition})"
            )
            params += values_params
    if f.search and f.search.strip():
        tokens = store.cipher.query_tokens(f.search)
        if not tokens:
            where.append("1 = 0")  # nothing searchable (punctuation only) matches nothing
        else:
            contains = " AND ".join(store.contains("s.tokens") for _ in tokens)
            where.append(
                "EXISTS (SELECT 1 FROM view_partner_search s"  # noqa: S608 (fixed SQL)
                f" WHERE s.partner_id = view_partners.partner_id AND {contains})"
            )
            params += tokens
    if f.not_engaged_since is not None:
        where.append("(last_engaged_on IS NULL OR last_engaged_on < ?)")
        params.append(f.not_engaged_since.isoformat())
    return where, params


def _with_lists(store: ViewStore, rows: list[Row]) -> list[PartnerRow]:
    if not rows:
        return []
    ids, params = id_list("partner_id", (r["partner_id"] for r in rows))
    countries: dict[str, list[str]] = {}
    for row in store.query(
        f"SELECT partner_id, country FROM view_partner_countries WHERE {ids}"  # noqa: S608
        " ORDER BY partner_id, country",
        params,
    ):
        countries.setdefault(row["partner_id"], []).append(row["country"])
    areas: dict[str, list[str]] = {}
    for row in store.query(
        f"SELECT partner_id, focus_area FROM view_partner_focus_areas WHERE {ids}"  # noqa: S608
        " ORDER BY partner_id, focus_area",
        params,
    ):
        areas.setdefault(row["partner_id"], []).append(row["focus_area"])
    return [
        PartnerRow(
            partner_id=r["partner_id"],
            name=r["name"],
            acronym=r["acronym"],
            kind=r["kind"],
            scope=r["scope"],
            status=r["status"],
            status_reason=r["status_reason"],
            mission_context=r["mission_context"],
            external_id=r["external_id"],
            current_rating=r["current_rating"],
            last_engaged_on=None
            if r["last_engaged_on"] is None
            else date.fromisoformat(r["last_engaged_on"]),
            countries=tuple(countries.get(r["partner_id"], ())),
            focus_areas=tuple(areas.get(r["partner_id"], ())),
            registered_at=r["registered_at"],
            updated_at=r["updated_at"],
            version=int(r["version"]),
            key=(str(r["name"]).casefold(), r["partner_id"]),
        )
        for r in rows
    ]
