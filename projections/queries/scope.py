"""The caller's reach, as the partner ids they may see (None: every partner), turned into SQL."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

Scope = Collection[str] | None
"""Partner ids the caller may see; None for every partner (officers, evaluators)."""


def id_list(column: str, ids: Iterable[object]) -> tuple[str, list[Any]]:
    """``column IN (?, ...)`` and its parameters; an empty list matches nothing."""
    values = list(dict.fromkeys(str(i) for i in ids))
    if not values:
        return "1 = 0", []
    return f"{column} IN ({', '.join('?' for _ in values)})", values


def scoped(column: str, scope: Scope) -> tuple[str, list[Any]]:
    """The condition limiting ``column`` (a partner id) to ``scope``."""
    if scope is None:
        return "1 = 1", []
    return id_list(column, scope)


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, case-folded, with wildcards escaped."""
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
