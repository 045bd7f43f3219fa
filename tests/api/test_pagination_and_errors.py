"""Keyset pages at their boundaries, cursors bound to caller and filter, typed error codes."""

from __future__ import annotations

from typing import Any

import pytest

from domain.actors import RECORDER, Actor, acting_as
from tests.api.conftest import Api, raw
from tests.api.scenario import register, tell

PAGE = """query($first: Int!, $after: String, $f: PartnerFilterInput) {
  partners(first: $first, after: $after, filter: $f) {
    edges { cursor node { name } } pageInfo { hasNextPage endCursor } totalCount } }"""


def _many(api: Api, count: int) -> None:
    with acting_as(Actor("bulk-loader", RECORDER)):
        last = None
        for i in range(count):
            last = api.registry.register_partner(f"Partner {i:03d}", "local CSO", "local")
    assert last is not None
    api.follower.wait_until_projected(last.position)


def _page(api: Api, first: int, after: str | None = None, **kw: Any) -> Any:
    return api.data(PAGE, {"first": first, "after": after, "f": kw.pop("f", None)}, **kw)[
        "partners"
    ]


def test_page_sizes_0_1_100_and_101_capped_at_100(api: Api) -> None:
    _many(api, 105)
    assert _page(api, 0)["edges"] == []
    assert _page(api, 0)["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["name"] for e in _page(api, 1)["edges"]] == ["Partner 000"]
    hundred = _page(api, 100)
    assert len(hundred["edges"]) == 100
    assert hundred["pageInfo"]["hasNextPage"] is True
    assert len(_page(api, 101)["edges"]) == 100
    rest = _page(api, 100, hundred["pageInfo"]["endCursor"])
    assert [e["node"]["name"] for e in rest["edges"]] == [f"Partner {i}" for i in range(100, 105)]
    assert rest["pageInfo"]["hasNextPage"] is False
    after_last = _page(api, 10, rest["pageInfo"]["endCursor"])
    assert after_last["edges"] == []
    assert after_last["pageInfo"]["hasNextPage"] is False
    assert after_last["totalCount"] == 105
    error = api.error(PAGE, {"first": -1})
    assert error["extensions"]["code"] == "VALIDATION"


def test_a_cursor_works_only_for_the_caller_and_filter_it_was_minted_for(api: Api) -> None:
    _many(api, 3)
    cursor = _page(api, 1, subject="alice")["pageInfo"]["endCursor"]
    assert len(_page(api, 5, cursor, subject="alice")["edges"]) == 2
    for kw in ({"subject": "bob"}, {"subject": "alice", "role": "evaluator"}):
        error = api.error(PAGE, {"first": 5, "after": cursor}, **kw)
        assert error["extensions"] == {"code": "VALIDATION", "field": "after", "rule": "cursor"}
    other_filter = api.error(
        PAGE, {"first": 5, "after": cursor, "f": {"kinds": ["local CSO"]}}, subject="alice"
    )
    assert other_filter["extensions"]["code"] == "VALIDATION"
    forged = api.error(PAGE, {"first": 5, "after": "bm90LWEtY3Vyc29y"}, subject="alice")
    assert forged["extensions"]["code"] == "VALIDATION"


def test_timeline_pages_follow_valid_then_recorded_time(api: Api) -> None:
    tell(api)
    query = """query($after: String) { timeline(first: 3, after: $after) {
                 edges { node { id validTime { start } recordedAt } } pageInfo { hasNextPage endCursor } } }"""
    seen: list[tuple[str, str]] = []
    after = None
    while True:
        page = api.data(query, {"after": after})["timeline"]
        seen += [(e["node"]["validTime"]["start"], e["node"]["recordedAt"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(seen)
    assert len(seen) > 3


@pytest.mark.parametrize(
    ("mutation", "role", "code", "field"),
    [
        (
            'registerPartner(name: "X", kind: "club", scope: "local") { id }',
            "recorder",
            "VALIDATION",
            "kind",
        ),
        (
            'registerPartner(name: "X", kind: "local CSO", scope: "local") { id }',
            "evaluator",
            "FORBIDDEN",
            None,
        ),
        (
            'activatePartner(partnerId: "UGFydG5lcjowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA") { id }',
            "recorder",
            "NOT_FOUND",
            None,
        ),
    ],
)
def test_errors_carry_a_code_field_and_an_actionable_message(
    api: Api, mutation: str, role: str, code: str, field: str | None
) -> None:
    error = api.error(f"mutation {{ {mutation} }}", role=role)
    assert error["extensions"]["code"] == code
    assert error["extensions"].get("field") == field
    assert error["message"]
    assert "Traceback" not in str(error)


def test_rule_violations_name_the_rule(api: Api) -> None:
    partner = register(api, "Twice Active")
    api.data(
        "mutation($p: ID!) { activatePartner(partnerId: $p) { id } }",
        {"p": partner},
        role="recorder",
    )
    error = api.error(
        "mutation($p: ID!) { activatePartner(partnerId: $p) { id } }",
        {"p": partner},
        role="recorder",
    )
    assert error["extensions"] == {"code": "RULE_VIOLATION", "rule": "status"}
    assert "registered" in error["message"]


def test_conflicting_writers_get_conflict(api: Api) -> None:
    from api.graphql.errors import registry_error_extensions
    from domain.errors import Conflict

    assert registry_error_extensions(Conflict("reload and retry")) == {"code": "CONFLICT"}


def test_an_id_of_another_type_is_not_found(api: Api) -> None:
    story = tell(api)
    error = api.error("query($d: ID!) { decision(id: $d) { id } }", {"d": story.partner})
    assert error["extensions"]["code"] == "NOT_FOUND"
    garbage = api.error('{ partner(id: "%%%") { id } }')
    assert garbage["extensions"]["code"] == "NOT_FOUND"


def test_unexpected_errors_are_masked_with_a_request_id(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.views import RegistryReader

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("secret database detail")

    monkeypatch.setattr(RegistryReader, "risk_register", broken)
    error = api.error("{ riskRegister { partnerId } }")
    assert error["extensions"]["code"] == "INTERNAL"
    assert error["extensions"]["requestId"] in error["message"]
    assert "secret" not in str(error)


def test_no_token_is_401(api: Api) -> None:
    response = api.client.post("/graphql", json={"query": "{ me { role } }"})
    assert response.status_code == 401
    assert "bearer token" in response.json()["detail"]


def test_a_partner_sees_only_its_own_record_and_no_internal_fields(api: Api) -> None:
    story = tell(api)
    org = raw(story.partner)
    listed = api.data("{ partners { edges { node { id } } totalCount } }", role="partner", org=org)
    assert [e["node"]["id"] for e in listed["partners"]["edges"]] == [story.partner]
    own = api.data(
        """query($p: ID!) { partner(id: $p) { contactPersons { name } actorMapping { stance }
             decisions { rationale conditions reviewDue dissents } } }""",
        {"p": story.partner}, role="partner", org=org,
    )["partner"]  # fmt: skip
    assert own["contactPersons"] == [{"name": "Mary Akech"}]
    assert own["actorMapping"] is None
    assert own["decisions"][0]["rationale"] is None
    assert own["decisions"][0]["dissents"] == []
    assert own["decisions"][0]["conditions"] == ["No public branding"]
    for query, variables in (
        ("query($p: ID!) { partner(id: $p) { id } }", {"p": story.other}),
        (
            "query($p: ID!) { timeline(partnerIds: [$p]) { edges { node { id } } } }",
            {"p": story.other},
        ),
    ):
        error = api.error(query, variables, role="partner", org=org)
        assert error["extensions"]["code"] in {"NOT_FOUND", "FORBIDDEN"}
    history = api.error(
        "query($p: ID!) { history(id: $p) { version } }",
        {"p": story.partner},
        role="partner",
        org=org,
    )
    assert history["extensions"]["code"] == "FORBIDDEN"


def test_an_evaluator_sees_actors_under_stable_pseudonyms(api: Api) -> None:
    story = tell(api)
    query = "query($d: ID!) { decision(id: $d) { proposer decider } }"
    first = api.data(query, {"d": story.decision}, role="evaluator")["decision"]
    again = api.data(query, {"d": story.decision}, role="evaluator", subject="another")["decision"]
    assert first == again
    assert first["proposer"].startswith("pseud-")
    assert "officer-proposer" not in str(first)
