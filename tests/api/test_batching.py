"""No N+1: a page of partners with nested lists costs the same storage queries at 10 or 50 rows."""

from __future__ import annotations

from typing import Any

import pytest

from domain.actors import RECORDER, Actor, acting_as
from projections.store import ViewStore
from tests.api.conftest import Api

NESTED = """query($first: Int!) { partners(first: $first) { edges { node {
  id name timeline { kind validTime { text } }
  engagements { title date { text } role }
  riskAssessments { status rating }
  decisions { outcome reviewDue overdue } } } } }"""


def _partners_with_engagements(api: Api, count: int) -> None:
    with acting_as(Actor("bulk-loader", RECORDER)):
        ids = [
            api.registry.register_partner(f"Partner {i:03d}", "local CSO", "local").id
            for i in range(count)
        ]
        last = None
        for i in range(0, count, 2):
            last = api.registry.record_engagement(
                "consultation", f"Consultation {i}", "2023-05", partners=[(ids[i], "participant")]
            )
    assert last is not None
    api.follower.wait_until_projected(last.position)


def _count_queries(api: Api, monkeypatch: pytest.MonkeyPatch, first: int) -> int:
    calls: list[str] = []
    original = ViewStore.query

    def counting(self: ViewStore, sql: str, params: Any = (), **kw: Any) -> Any:
        calls.append(sql)
        return original(self, sql, params, **kw)

    monkeypatch.setattr(ViewStore, "query", counting)
    try:
        edges = api.data(NESTED, {"first": first})["partners"]["edges"]
    finally:
        monkeypatch.setattr(ViewStore, "query", original)
    assert len(edges) == first
    assert sum(1 for e in edges if e["node"]["engagements"]) == first // 2
    return len(calls)


def test_nested_lists_of_a_50_partner_page_cost_as_many_queries_as_of_10(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _partners_with_engagements(api, 50)
    ten = _count_queries(api, monkeypatch, 10)
    fifty = _count_queries(api, monkeypatch, 50)
    print(f"storage queries: 10 partners -> {ten}, 50 partners -> {fifty}")
    assert ten == fifty
    assert fifty <= 12
