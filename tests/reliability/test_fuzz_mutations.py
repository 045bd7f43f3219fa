"""Hypothesis-generated arguments for EVERY mutation of the schema, over HTTP, as the role that runs it.

The argument strategies are built from the schema itself (introspecting the Strawberry schema's
mutation fields and their GraphQL argument types), so a mutation added later is fuzzed too:

* String: hostile text (RTL, combining marks, NUL, markup, CSV formulas, SQL), random text,
  oversize text, and for enumerated arguments (kind, scope, stance, status, outcome, ...) the
  known values as well as unknown ones; date-like arguments (on, end) get valid dates at year,
  month and day precision and invalid ones (2019-13-01, 2020-02-30, the future, prose);
* Int: in range, out of range (0, -1, 6) and beyond 32 bits (GraphQL refuses those);
* Date: valid, invalid and non-ISO strings;
* ID: the global ids of a seeded story (tests/api/scenario.py: every record type exists), ids of
  the wrong type, forged ids (not base64, a type with a non-uuid, an unknown uuid);
* lists (0-3 items), input objects (each optional field present or not), and now and then
  a null for a required argument.

Checked for each call: HTTP status below 500, every error carries a typed ``extensions.code``
(never INTERNAL), and a successful write returns the string arguments that are fields of the
returned object as sent (the domain trims surrounding whitespace: ``str.strip`` is the one
documented normalisation, see domain/validation.check_text).

SQLite runs the broad set (EXAMPLES per mutation); PostgreSQL a smaller one.
"""

from __future__ import annotations

import base64
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.graphql import ids
from api.graphql.schema import schema as strawberry_schema
from tests.api.conftest import Api
from tests.api.scenario import tell

pytestmark = pytest.mark.slow

GRAPHQL: GraphQLSchema = strawberry_schema._schema
TYPED = {"VALIDATION", "RULE_VIOLATION", "NOT_FOUND", "CONFLICT", "FORBIDDEN"}
EXAMPLES = {"sqlite": 25, "postgres": 6}

HOSTILE = [
    "مركز السلام للنساء",  # RTL
    "\u202eevil.exe\u202c",  # RTL override
    "e\u0301\u0301\u0301 Z\u0335\u0321\u031b",  # combining marks
    "nul\x00inside",
    "\x00",
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    '=HYPERLINK("http://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1)",
    "\t=1+1",
    "\r=1+1",
    "'; DROP TABLE events; --",
    "Robert'); DELETE FROM partners_view WHERE ('1'='1",
    "\ud7ff\ue000\U0010ffff\U0001f600",
    "x" * 5_001,
    "y" * 20_001,
    "",
    " ",
]
KNOWN = {
    "kind": ["women's group", "youth group", "roundtable", "partner organisation"],
    "scope": ["local", "national", "joint activity"],
    "stance": ["supportive", "unknown", "opposed"],
    "status": ["planned", "in progress", "done"],
    "outcome": ["approved", "approved with conditions", "rejected", "continue"],
    "channel": ["meeting", "email", "letter"],
    "confidentiality": ["internal", "restricted", "public"],
    "category": ["reprisal or intimidation risk to the partner", "reputational risk"],
    "role": ["convener", "participant", "chair"],
    "countries": ["SS", "ss", "XX1", "FR"],
    "email": ["mary@example.org", "not an email"],
}
YEAR_AGO = date.today() - timedelta(days=365)
WHEN = [
    "2019", "2020-02", "2020-02-29", str(YEAR_AGO), "2021-02-29", "2019-13-01", "2020-02-30",
    "20-1-1", "9999-99", "0000", "yesterday", "2020/01/01", str(date.today() + timedelta(days=40)),
    "2020-W01", "",
]  # fmt: skip
DUE = [
    str(date.today() + timedelta(days=90)), "2030-06-30", "2020-02-29", "2020-02-30", "2019-13-01",
    "0001-01-01", "9999-12-31", "2030", "soon", "",
]  # fmt: skip
DATE_LIKE = {"on", "end"}

ROLES = {
    "updateProfile": "recorder",
    "registerPartner": "recorder",
    "updateActorMapping": "recorder",
    "addContactPerson": "recorder",
    "removeContactPerson": "recorder",
    "activatePartner": "recorder",
    "closePartner": "recorder",
    "recordEngagement": "recorder",
    "correctEngagement": "recorder",
    "addFollowUp": "recorder",
    "completeFollowUp": "recorder",
    "proposeDecision": "recorder",
    "recordDissent": "recorder",
    "recordCommunication": "recorder",
    "erasePersonalData": "admin",
}
"""Everything else (risk assessments, decide, reviews, suspension) as a human rights officer."""
LAST = ("closePartner", "withdrawRiskAssessment", "supersedeRiskAssessment", "erasePersonalData")
"""Mutations that end a record's working life run last, so the others can still succeed."""


def mutation_names() -> list[str]:
    mutation = GRAPHQL.mutation_type
    assert mutation is not None
    return sorted(mutation.fields, key=lambda n: (n in LAST, LAST.index(n) if n in LAST else 0))


def gid(type_name: str, raw: object) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{raw}".encode()).decode().rstrip("=")


def text_for(name: str) -> st.SearchStrategy[str]:
    """Strings for an argument or input field called ``name``."""
    if name in DATE_LIKE:
        return st.one_of(st.sampled_from(WHEN), st.text(max_size=12))
    hostile = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=200))
    if name in KNOWN:
        return st.one_of(st.sampled_from(KNOWN[name]), st.sampled_from(KNOWN[name]), hostile)
    return st.one_of(hostile, st.text(alphabet=st.characters(codec="utf-8"), min_size=1))


INTS = st.one_of(
    st.integers(1, 5),
    st.integers(1, 5),
    st.sampled_from([0, -1, 6, 2**31 - 1, -(2**31)]),
    st.integers(-(2**31), 2**31 - 1),
    st.sampled_from([2**31, -(2**31) - 1, 2**63]),  # beyond GraphQL Int: refused as VALIDATION
)


ID_TYPES = {
    "partnerId": "Partner", "engagementId": "Engagement", "assessmentId": "RiskAssessment",
    "supersededBy": "RiskAssessment", "decisionId": "Decision", "personId": "ContactPerson",
    "followUpId": "FollowUp", "mitigationId": "Mitigation",
}  # fmt: skip
PLAUSIBLE_TEXT = [t for t in HOSTILE if t.strip() and len(t) <= 300]


def plausible_text(name: str) -> st.SearchStrategy[str]:
    """Text the domain should accept: hostile but short and not blank."""
    if name in DATE_LIKE:
        return st.sampled_from(["2019", "2020-02", "2020-02-29", str(YEAR_AGO)])
    if name in KNOWN:
        return st.sampled_from(KNOWN[name][:2])
    return st.one_of(
        st.sampled_from(PLAUSIBLE_TEXT),
        st.text(min_size=1, max_size=60).filter(lambda t: bool(t.strip())),
    )


class Strategies:
    """Values for GraphQL input types; ids come from a seeded story.

    ``plausible``: values the domain should mostly accept (known ids of the right type, scales
    1-5, valid dates, hostile but short text, no nulls), so the success path is reached too."""

    def __init__(self, known_ids: list[str], plausible: bool = False) -> None:
        self.plausible = plausible
        self.by_type: dict[str, list[str]] = {}
        for known in known_ids:
            self.by_type.setdefault(ids.split(known)[0], []).append(known)
        forged = [
            "", "not-base64!", "é", "x" * 2_000, gid("Partner", "not-a-uuid"),
            gid("Partner", uuid.uuid4()), gid("Nope", uuid.uuid4()), gid("Partner", ""),
            gid("RiskAssessment", uuid.uuid4()), gid("Decision", f"{uuid.uuid4()}\x00"),
            base64.b64encode(b"\xff\xfe").decode(), str(uuid.uuid4()),
        ]  # fmt: skip
        self.ids = st.one_of(st.sampled_from(known_ids), st.sampled_from(known_ids),
                             st.sampled_from(forged), st.text(max_size=40))  # fmt: skip

    def value(self, name: str, type_: Any, depth: int = 0) -> st.SearchStrategy[Any]:
        if self.plausible:
            return self.required(name, type_, depth)
        if isinstance(type_, GraphQLNonNull):
            inner = self.value(name, type_.of_type, depth)
            return st.one_of(inner, inner, inner, inner, inner, inner, inner, inner, st.none())
        nullable = self._nullable(name, type_, depth)
        return st.one_of(nullable, nullable, nullable, st.none())

    def required(self, name: str, type_: Any, depth: int = 0) -> st.SearchStrategy[Any]:
        """A value (never null) for ``type_`` with its non-null wrapper removed."""
        base = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        return self._nullable(name, base, depth)

    def _nullable(self, name: str, type_: Any, depth: int) -> st.SearchStrategy[Any]:
        if isinstance(type_, GraphQLList):
            return st.lists(self.value(name, type_.of_type, depth + 1), max_size=3)
        if isinstance(type_, GraphQLInputObjectType):
            return self.input_object(type_, depth + 1)
        if isinstance(type_, GraphQLEnumType):
            return st.one_of(st.sampled_from(list(type_.values)), st.just("NOT_A_VALUE"))
        assert isinstance(type_, GraphQLScalarType), type_
        return self.scalar(name, type_.name)

    def scalar(self, name: str, scalar: str) -> st.SearchStrategy[Any]:
        if self.plausible and scalar in ("String", "ID", "Int", "Date"):
            return self.plausible_scalar(name, scalar)
        if scalar == "String":
            return text_for(name)
        if scalar == "ID":
            return self.ids
        if scalar == "Int":
            return INTS
        if scalar == "Boolean":
            return st.booleans()
        if scalar == "Date":
            return st.one_of(st.sampled_from(DUE), st.text(max_size=12))
        if scalar == "Float":
            return st.floats(allow_nan=False, allow_infinity=False)
        raise AssertionError(f"no strategy for scalar {scalar}")

    def plausible_scalar(self, name: str, scalar: str) -> st.SearchStrategy[Any]:
        if scalar == "String":
            return plausible_text(name)
        if scalar == "ID":
            return st.sampled_from(self.by_type.get(ID_TYPES.get(name, "Partner"), ["none"]))
        if scalar == "Int":
            return st.integers(0, 5) if name in ("total", "women", "youth") else st.integers(1, 5)
        return st.sampled_from(DUE[:2])

    def input_object(self, type_: GraphQLInputObjectType, depth: int) -> st.SearchStrategy[Any]:
        required = {
            n: self.value(n, f.type, depth)
            for n, f in type_.fields.items()
            if isinstance(f.type, GraphQLNonNull)
        }
        optional = {
            n: self.value(n, f.type, depth)
            for n, f in type_.fields.items()
            if not isinstance(f.type, GraphQLNonNull)
        }
        return st.fixed_dictionaries(required, optional=optional)

    def arguments(self, field: GraphQLField) -> st.SearchStrategy[dict[str, Any]]:
        required = {
            n: self.value(n, a.type)
            for n, a in field.args.items()
            if isinstance(a.type, GraphQLNonNull)
        }
        optional = {
            n: self.value(n, a.type)
            for n, a in field.args.items()
            if not isinstance(a.type, GraphQLNonNull)
        }
        return st.fixed_dictionaries(required, optional=optional)


DESCRIBE_THE_RESULT = (
    "registerPartner", "updateProfile", "openRiskAssessment", "proposeDecision", "decide",
    "updateActorMapping",
)  # fmt: skip


def echoed(name: str) -> list[str]:
    """String arguments of mutation ``name`` that its result type exposes under the same name
    (only for mutations whose arguments describe the returned record itself)."""
    if name not in DESCRIBE_THE_RESULT:
        return []
    field = GRAPHQL.mutation_type.fields[name]  # type: ignore[union-attr]
    result = get_named_type(field.type)
    assert isinstance(result, GraphQLObjectType)
    found = []
    for arg_name, arg in field.args.items():
        arg_type = arg.type.of_type if isinstance(arg.type, GraphQLNonNull) else arg.type
        out = result.fields.get(arg_name)
        if (
            out is not None
            and getattr(arg_type, "name", None) == "String"
            and getattr(get_named_type(out.type), "name", None) == "String"
            and not isinstance(
                out.type.of_type if isinstance(out.type, GraphQLNonNull) else out.type, GraphQLList
            )
        ):
            found.append(arg_name)
    return found


def document(name: str, arguments: dict[str, Any]) -> str:
    """``mutation($name: Type, ...) { name(name: $name, ...) { __typename <echoed> } }``."""
    field = GRAPHQL.mutation_type.fields[name]  # type: ignore[union-attr]
    declared = ", ".join(f"${a}: {field.args[a].type}" for a in arguments)
    passed = ", ".join(f"{a}: ${a}" for a in arguments)
    selection = " ".join(["__typename", *echoed(name)])
    head = f"mutation({declared})" if declared else "mutation"
    call = f"{name}({passed})" if passed else name
    return f"{head} {{ {call} {{ {selection} }} }}"


def typed_errors(body: dict[str, Any]) -> list[str]:
    codes = []
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code in TYPED, error
        codes.append(str(code))
    return codes


def seeded_ids(api: Api) -> list[str]:
    """Global ids of every kind of record and part: partners, contacts, follow-ups, risks, ..."""
    story = tell(api)
    found = [story.partner, story.other, story.engagement, story.assessment,
             story.newer_assessment, story.decision, story.contact, story.follow_up]  # fmt: skip
    assessment = api.data(
        "query($a: ID!) { riskAssessment(id: $a) { risks { id } mitigations { id } } }",
        {"a": story.assessment},
    )["riskAssessment"]
    found += [r["id"] for r in assessment["risks"]] + [m["id"] for m in assessment["mitigations"]]
    draft = api.data(
        'mutation($p: ID!) { openRiskAssessment(partnerId: $p, title: "Draft") { id } }',
        {"p": story.partner},
    )["openRiskAssessment"]["id"]
    return [*found, draft]


@pytest.fixture
def seeded(api: Api) -> tuple[Api, list[str]]:
    return api, seeded_ids(api)


def run(api: Api, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    response = api.client.post(
        "/graphql",
        json={"query": document(name, arguments), "variables": arguments},
        headers={"Authorization": f"Bearer {api.token(ROLES.get(name, 'human_rights_officer'))}"},
    )
    assert response.status_code < 500, (name, arguments, response.text)
    body: dict[str, Any] = response.json()
    return body


def fuzz(
    api: Api, strategies: Strategies, name: str, examples: int, seen: Counter[str]
) -> Callable[[], None]:
    field = GRAPHQL.mutation_type.fields[name]  # type: ignore[union-attr]

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(arguments=strategies.arguments(field))
    def check(arguments: dict[str, Any]) -> None:
        body = run(api, name, arguments)
        codes = typed_errors(body)
        seen.update(f"{name} {code}" for code in codes or ["ok"])
        if codes:
            return
        created = body["data"][name]
        for arg in echoed(name):
            if arg in arguments and arguments[arg] is not None:
                assert created[arg] == arguments[arg].strip(), (name, arg, arguments[arg])

    return check


@pytest.mark.parametrize("plausible", [False, True], ids=["hostile", "plausible"])
def test_every_mutation_answers_generated_arguments_with_data_or_a_typed_error(
    seeded: tuple[Api, list[str]], plausible: bool
) -> None:
    api, known = seeded
    strategies = Strategies(known, plausible)
    examples = EXAMPLES[api.backend.name]
    names = mutation_names()
    assert len(names) >= 27, names
    seen: Counter[str] = Counter()
    for name in names:
        fuzz(api, strategies, name, examples, seen)()
    print("\n".join(f"{count:4} {outcome}" for outcome, count in sorted(seen.items())))
    if plausible:
        succeeded = {outcome.split()[0] for outcome in seen if outcome.endswith(" ok")}
        assert len(succeeded) >= len(names) // 2, sorted(succeeded)
