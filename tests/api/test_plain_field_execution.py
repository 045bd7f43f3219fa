"""The plain-field execution context answers exactly as graphql-core's own: data, errors, paths."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension

from api.graphql.execution import PlainFieldExecutionContext
from tests.api.conftest import Api, raw
from tests.api.scenario import tell


class Weird:
    def __str__(self) -> str:
        return "weird"


class Raising:
    """An item whose ``name`` raises when read (any object with the attributes will do)."""

    def __init__(self, n: int) -> None:
        self.item = item(n)

    @property
    def name(self) -> str:
        raise RuntimeError(f"name {self.item.count} cannot be read")

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.item, attribute)


@strawberry.type
class Inner:
    text: str
    day: date


@strawberry.type
class Item:
    name: str
    maybe: str | None
    count: int
    flag: bool
    at: datetime
    tags: list[str]
    loose_tags: list[str | None] | None
    ident: strawberry.ID
    inner: Inner
    ratio: float
    inners: list[Inner]
    loose_inners: list[Inner | None] | None

    @strawberry.field
    def computed(self) -> str:
        return self.name.upper()


def item(n: int, **changes: Any) -> Item:
    values: dict[str, Any] = {
        "name": f"item {n}",
        "maybe": None if n % 2 else f"maybe {n}",
        "count": n,
        "flag": n % 3 == 0,
        "at": datetime(2024, 1, 1 + n, 12, tzinfo=UTC),
        "tags": [f"t{n}", "x"],
        "loose_tags": [None, "y"] if n % 2 else None,
        "ident": strawberry.ID(f"id-{n}"),
        "inner": Inner(text=f"inner {n}", day=date(2020, 1, 1 + n)),
        "ratio": n / 3,
        "inners": [
            Inner(text=f"a{n}", day=date(2021, 2, 1 + n)),
            Inner(text="b", day=date(2022, 1, 1)),
        ],
        "loose_inners": [None, Inner(text="c", day=date(2023, 1, 1))] if n % 2 else None,
    }
    values.update(changes)
    return Item(**values)


def broken_items() -> list[Item]:
    """Items whose values graphql-core refuses, each in its own way."""
    return [
        item(1),
        item(2, name=None),  # null in a non-null String
        item(3, count=2**40),  # Int out of range
        item(4, name={"not": "a string"}),  # String cannot represent a dict
        item(5, tags=["a", None]),  # null item in [String!]!
        item(6, flag=1),  # coerced to true, as graphql-core does
        item(7, name=7, ident=7),  # numbers coerced to strings
        item(8, name=Weird()),  # custom types serialised by their __str__
        item(9, tags="abc"),  # a str is not a list
        item(10, maybe=3.5, loose_tags=("a", None)),
        item(11, at="2024-01-01"),  # a DateTime that is no datetime
        item(12, inner=None),
        item(13, inner=Inner(text=None, day=date(2020, 1, 1))),  # type: ignore[arg-type]
        item(14, inners=[Inner(text="a", day=date(2020, 1, 1)), None]),
        item(15, inners=[Inner(text="a", day="2020-01-01")]),  # type: ignore[arg-type]
        item(16, loose_inners=[None, Inner(text=["x"], day=date(2020, 1, 1))]),  # type: ignore[arg-type]
        item(17, inners=("not", "inners")),
    ]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return [item(n) for n in range(5)]

    @strawberry.field
    def broken(self) -> list[Item | None]:
        return list(broken_items())

    @strawberry.field
    def broken_strictly(self) -> list[Item]:
        return broken_items()

    @strawberry.field
    def raising(self) -> list[Item | None]:
        return [item(1), Raising(2), item(3)]  # type: ignore[list-item]

    @strawberry.field
    def nullable_items(self) -> list[Item | None]:
        return [item(1), item(2, name=None), item(3, count="x")]

    @strawberry.field
    async def later(self) -> list[Item]:
        await asyncio.sleep(0)
        return [item(1), item(2)]


def schemas(extensions: list[Any] | None = None) -> tuple[strawberry.Schema, strawberry.Schema]:
    stock = strawberry.Schema(query=Query, extensions=extensions or [])
    fast = strawberry.Schema(
        query=Query,
        extensions=extensions or [],
        execution_context_class=PlainFieldExecutionContext,
    )
    return stock, fast


def answer(schema: strawberry.Schema, query: str, variables: dict[str, Any] | None = None) -> Any:
    result = asyncio.run(schema.execute(query, variable_values=variables))
    errors = sorted(
        (json.dumps(e.formatted, sort_keys=True, default=str) for e in result.errors or []),
    )
    return json.dumps(result.data, default=str), errors


ALL_FIELDS = (
    "name maybe count flag at tags looseTags ident ratio inner { text day } computed "
    "inners { text day } looseInners { day text }"
)

QUERIES = [
    "{ items { " + ALL_FIELDS + " } }",
    "{ broken { " + ALL_FIELDS + " } }",
    "{ brokenStrictly { " + ALL_FIELDS + " } }",
    *("{ broken { " + field + " } }" for field in ALL_FIELDS.split(" ")[:9]),
    "{ broken { inner { text day } } }",
    "{ broken { inners { text day } looseInners { text } } }",
    "{ broken { inners { text __typename } looseInners { t: text day } } }",
    "{ nullableItems { name count maybe } }",
    "{ raising { count name inner { text } } }",
    "{ raising { count inner { text } } }",
    "{ later { name inner { day } } }",
    "{ items { __typename a: name b: name name count c: count } }",
    "{ items { ...F name } } fragment F on Item { count name inner { text } }",
    "{ items { ... on Item { flag } tags } }",
    "query($yes: Boolean!) { items { name @include(if: $yes) count @skip(if: $yes) } }",
    "{ items { inner { __typename text } computed } nullableItems { at } }",
]


@pytest.mark.parametrize("query", QUERIES)
def test_the_same_answer_as_graphql_core(query: str) -> None:
    stock, fast = schemas()
    variables = {"yes": True} if "$yes" in query else None
    assert answer(fast, query, variables) == answer(stock, query, variables)


def test_a_resolve_hook_turns_the_shortcut_off() -> None:
    """An extension hooking every field's resolution still sees every field."""
    seen: list[str] = []

    class Watch(SchemaExtension):
        def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
            seen.append(info.field_name)
            return _next(root, info, *args, **kwargs)

    stock, fast = schemas([Watch])
    query = "{ items { name count inner { text } } }"
    assert answer(fast, query) == answer(stock, query)
    assert seen.count("name") == 10  # 5 items, each schema once


TIMELINE = """{ timeline(first: 50) { edges { cursor node { id eventId recordId version kind
  title validTime { text precision start end } recordedAt recordedLate partnerIds partnerKinds
  actorId actorRole reason __typename } } pageInfo { hasNextPage endCursor } } }"""
PARTNER = """query($id: ID!) { partner(id: $id) { id name status version currentRiskRating
  formerNames countries focusAreas timeline { kind title validTime { text } }
  engagements { title followUps { action done } } } }"""


def test_the_registry_answers_the_same_through_both_contexts(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timeline pages and a partner's record, for roles that see more or less of them."""
    from graphql.execution.incremental import IncrementalExecutor

    from api.graphql.schema import build_schema

    assert build_schema().execution_context_class is PlainFieldExecutionContext
    story = tell(api)
    asked: list[tuple[str, dict[str, Any], str]] = [
        (TIMELINE, {}, role) for role in ("human_rights_officer", "evaluator", "recorder")
    ]
    asked += [
        (PARTNER, {"id": story.partner}, role) for role in ("human_rights_officer", "partner")
    ]

    def answers() -> list[dict[str, Any]]:
        found = []
        for query, variables, role in asked:
            org = raw(story.partner) if role == "partner" else None
            found.append(api.gql(query, variables, role=role, org=org, subject="same"))
        return found

    fast = answers()
    monkeypatch.setattr(
        PlainFieldExecutionContext, "execute_fields", IncrementalExecutor.execute_fields
    )
    assert answers() == fast
    assert all("errors" not in a for a in fast[:3])
