"""Partner isolation and the role x operation matrix over HTTP, generated from security.permissions.

One story (every mutation) is told once per backend; then every role runs every operation, and
partner tokens try every path to another partner's data: forged ids of every type, aliases,
fragments, foreign cursors, filters, exports, history and decision.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.graphql import ids
from api.runtime import audit_ledger, build_registry
from projections.follower import ViewFollower
from security.permissions import OPERATIONS
from security.tokens import TokenIssuer, TokenVerifier
from tests.api.conftest import ISSUER, Api, raw
from tests.api.scenario import Story, register, tell
from tests.backends import Backend, postgres_backend, sqlite_backend

ROLES = ("recorder", "human_rights_officer", "evaluator", "partner", "admin")
HIDDEN_FROM_EVERY_OTHER_PARTNER = (
    "Juba Women",  # the partner's name
    "JWPN",
    "Mary Akech",  # its contact person
    "Source K",  # confidential risk source
    "threatened",  # risk description (internal)
    "off-site meetings",  # decision rationale (internal)
    "understated",  # dissent (internal)
    "No public branding",  # decision condition
)
INTERNAL_TO_THE_MISSION = ("Source K", "threatened", "off-site meetings", "understated")


@dataclass
class World:
    api: Api
    story: Story
    outsider: str  # a partner no record of the story concerns
    risk: str
    mitigation: str
    entry: str  # a timeline entry of the story's partner
    hro_cursor: str  # a partners cursor minted for a human rights officer

    def gql(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.api.gql(query, variables, **kw)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("isolation")
    backends = {"sqlite": lambda: sqlite_backend(tmp), "postgres": postgres_backend}
    with backends[request.param]() as backend:
        yield from _world(backend, tmp)


def _world(backend: Backend, tmp: Path) -> Iterator[World]:
    settings = backend.settings(signing_key_file=tmp / "signing.pem")
    issuer = TokenIssuer.from_key_file(tmp / "signing.pem", ISSUER, ISSUER)
    registry = build_registry(settings)
    follower = ViewFollower(registry, poll_interval=0.05)
    app = create_app(settings, TokenVerifier(issuer.jwks(), ISSUER, ISSUER), registry, follower)
    try:
        with TestClient(app) as client:
            api = Api(client, issuer, registry, follower, backend)
            story = tell(api)
            outsider = register(api, "Bor Faith Council", "faith-based organisation")
            assessment = api.data(
                "query($a: ID!) { riskAssessment(id: $a) { risks { id } mitigations { id } } }",
                {"a": story.assessment},
            )["riskAssessment"]
            entry = api.data(
                "query($p: [ID!]) { timeline(partnerIds: $p, first: 1) { edges { node { id } } } }",
                {"p": [story.partner]},
            )["timeline"]["edges"][0]["node"]["id"]
            cursor = api.data("{ partners(first: 1) { pageInfo { endCursor } } }")["partners"][
                "pageInfo"
            ]["endCursor"]
            yield World(
                api, story, outsider, assessment["risks"][0]["id"],
                assessment["mitigations"][0]["id"], entry, cursor,
            )  # fmt: skip
    finally:
        registry.close()


def as_partner(world: World, org_global_id: str) -> dict[str, Any]:
    return {"role": "partner", "org": raw(org_global_id)}


def assert_no_leak(body: Any, secrets: tuple[str, ...] = HIDDEN_FROM_EVERY_OTHER_PARTNER) -> None:
    text = str(body)
    leaked = [s for s in secrets if s in text]
    assert not leaked, f"leaked {leaked}: {text[:500]}"


def codes(body: Any) -> set[str]:
    return {e.get("extensions", {}).get("code") for e in body.get("errors") or []}


def refused(body: Any) -> bool:
    """Nothing came back: an error NOT_FOUND or FORBIDDEN and no data for the field."""
    return bool(codes(body) & {"NOT_FOUND", "FORBIDDEN"}) and not any(
        (body.get("data") or {}).values()
    )


# ---- the matrix: every role x every query --------------------------------------------------


def query_documents(world: World) -> dict[str, tuple[str, dict[str, Any]]]:
    """One document per query of the matrix that the schema serves, on the caller's own data
    (for partners: their organisation, the story's partner)."""
    s = world.story
    return {
        "me": ("{ me { role } }", {}),
        "partners": ("{ partners { totalCount } }", {}),
        "partner": ("query($p: ID!) { partner(id: $p) { id } }", {"p": s.partner}),
        "timeline": ("{ timeline(first: 5) { edges { node { id } } } }", {}),
        "decision": ("query($d: ID!) { decision(id: $d) { id } }", {"d": s.decision}),
        "riskRegister": ("{ riskRegister { partnerId } }", {}),
        "history": ("query($p: ID!) { history(id: $p) { version } }", {"p": s.partner}),
        "accessLog": (
            "query($p: ID!) { accessLog(partnerId: $p) { operation } }",
            {"p": s.partner},
        ),
        "checkpoint": ("{ checkpoint { treeSize } }", {}),
    }


SERVED_ELSEWHERE_OR_NOT_YET = {
    "export",  # tests/api/test_exports.py
    "inclusionProof",  # below and tests/api/test_ledger_api.py (needs an integrated event)
    "consistencyProof",  # tests/api/test_ledger_api.py (needs signed checkpoints)
}


def test_every_query_of_the_matrix_is_served_or_listed_here(world: World) -> None:
    queries = {n for n, r in OPERATIONS.items() if r.kind == "query"}
    assert queries == set(query_documents(world)) | SERVED_ELSEWHERE_OR_NOT_YET


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "operation",
    [
        "me",
        "partners",
        "partner",
        "timeline",
        "decision",
        "riskRegister",
        "history",
        "accessLog",
        "checkpoint",
    ],
)
def test_each_role_runs_exactly_the_queries_the_matrix_grants(
    world: World, role: str, operation: str
) -> None:
    document, variables = query_documents(world)[operation]
    org = raw(world.story.partner) if role == "partner" else None
    body = world.gql(document, variables, role=role, org=org)
    if OPERATIONS[operation].for_role(role) == "none":
        assert codes(body) == {"FORBIDDEN"}, body
        assert body.get("data") is None
        assert role in body["errors"][0]["message"]
    else:
        assert "errors" not in body, body


# ---- the matrix: every role x every mutation it may not run ---------------------------------


def mutation_documents(world: World) -> dict[str, tuple[str, dict[str, Any]]]:
    s = world.story
    p, e, a, d = s.partner, s.engagement, s.assessment, s.decision
    return {
        "registerPartner": ('mutation { registerPartner(name: "X", kind: "media", scope: "local") { id } }', {}),
        "updateProfile": ('mutation($p: ID!) { updateProfile(partnerId: $p, name: "X", kind: "media", scope: "local") { id } }', {"p": p}),
        "updateActorMapping": ("mutation($p: ID!) { updateActorMapping(partnerId: $p, interest: 1, influence: 1) { id } }", {"p": p}),
        "addContactPerson": ('mutation($p: ID!) { addContactPerson(partnerId: $p, name: "X") { id } }', {"p": p}),
        "removeContactPerson": ("mutation($p: ID!, $c: ID!) { removeContactPerson(partnerId: $p, personId: $c) { id } }", {"p": p, "c": s.contact}),
        "activatePartner": ("mutation($p: ID!) { activatePartner(partnerId: $p) { id } }", {"p": p}),
        "suspendPartner": ('mutation($p: ID!) { suspendPartner(partnerId: $p, reason: "r") { id } }', {"p": p}),
        "reinstatePartner": ('mutation($p: ID!) { reinstatePartner(partnerId: $p, reason: "r") { id } }', {"p": p}),
        "closePartner": ('mutation($p: ID!) { closePartner(partnerId: $p, reason: "r") { id } }', {"p": p}),
        "recordEngagement": ('mutation($p: ID!) { recordEngagement(input: {kind: "roundtable", title: "X", on: "2024", partners: [{partnerId: $p}]}) { id } }', {"p": p}),
        "correctEngagement": ('mutation($e: ID!) { correctEngagement(engagementId: $e, reason: "r", changes: {title: "Y"}) { id } }', {"e": e}),
        "addFollowUp": ('mutation($e: ID!) { addFollowUp(engagementId: $e, action: "a", owner: "o") { id } }', {"e": e}),
        "completeFollowUp": ("mutation($e: ID!, $f: ID!) { completeFollowUp(engagementId: $e, followUpId: $f) { id } }", {"e": e, "f": s.follow_up}),
        "openRiskAssessment": ("mutation($p: ID!) { openRiskAssessment(partnerId: $p) { id } }", {"p": p}),
        "addRisk": ('mutation($a: ID!) { addRisk(assessmentId: $a, category: "fraud or diversion", likelihood: 1, impact: 1, description: "d") { id } }', {"a": a}),
        "addMitigation": ('mutation($a: ID!) { addMitigation(assessmentId: $a, measure: "m", owner: "o") { id } }', {"a": a}),
        "updateMitigationStatus": ('mutation($a: ID!, $m: ID!) { updateMitigationStatus(assessmentId: $a, mitigationId: $m, status: "done") { id } }', {"a": a, "m": world.mitigation}),
        "submitRiskAssessment": ("mutation($a: ID!) { submitRiskAssessment(assessmentId: $a) { id } }", {"a": a}),
        "finaliseRiskAssessment": ("mutation($a: ID!) { finaliseRiskAssessment(assessmentId: $a) { id } }", {"a": a}),
        "supersedeRiskAssessment": ("mutation($a: ID!, $b: ID!) { supersedeRiskAssessment(assessmentId: $a, supersededBy: $b) { id } }", {"a": a, "b": s.newer_assessment}),
        "withdrawRiskAssessment": ('mutation($a: ID!) { withdrawRiskAssessment(assessmentId: $a, reason: "r") { id } }', {"a": a}),
        "proposeDecision": ('mutation($p: ID!, $a: ID!) { proposeDecision(partnerId: $p, scope: "funding", reliedOn: [{assessmentId: $a}]) { id } }', {"p": p, "a": a}),
        "decide": ('mutation($d: ID!) { decide(decisionId: $d, outcome: "declined", rationale: "r") { id } }', {"d": d}),
        "recordDissent": ('mutation($d: ID!) { recordDissent(decisionId: $d, dissent: "x") { id } }', {"d": d}),
        "recordCommunication": ('mutation($d: ID!) { recordCommunication(decisionId: $d, channel: "email") { id } }', {"d": d}),
        "reviewDecision": ('mutation($d: ID!) { reviewDecision(decisionId: $d, outcome: "maintained", note: "n") { id } }', {"d": d}),
        "erasePersonalData": ('mutation($c: ID!) { erasePersonalData(personId: $c, reason: "asked") { personId } }', {"c": s.contact}),
    }  # fmt: skip


FORBIDDEN_MUTATIONS = [
    (role, name)
    for name, found in OPERATIONS.items()
    if found.kind == "mutation"
    for role in ROLES
    if found.for_role(role) == "none"
]


def test_every_mutation_of_the_matrix_has_a_document(world: World) -> None:
    mutations = {n for n, r in OPERATIONS.items() if r.kind == "mutation"}
    assert mutations == set(mutation_documents(world))


@pytest.mark.parametrize(("role", "operation"), FORBIDDEN_MUTATIONS)
def test_a_role_may_not_run_a_mutation_the_matrix_refuses_it_and_nothing_is_written(
    world: World, role: str, operation: str
) -> None:
    document, variables = mutation_documents(world)[operation]
    # Earlier reads: logged, not written here.
    world.api.client.app.state.access_recorder.flush()  # type: ignore[attr-defined]
    before = world.api.registry.max_position()
    org = raw(world.story.partner) if role == "partner" else None
    body = world.gql(document, variables, role=role, org=org)
    assert codes(body) == {"FORBIDDEN"}, body
    assert body.get("data") is None
    assert world.api.registry.max_position() == before


# ---- partner isolation ----------------------------------------------------------------------


def test_a_partner_reads_its_own_record_without_internal_fields(world: World) -> None:
    s = world.story
    body = world.gql(
        """query($p: ID!) { partner(id: $p) { name statusReason actorMapping { interest }
             contactPersons { name } decisions { rationale dissents conditions }
             riskAssessments { risks { description confidentialSources } } } }""",
        {"p": s.partner},
        **as_partner(world, s.partner),
    )
    assert "errors" not in body, body
    partner = body["data"]["partner"]
    assert partner["name"].startswith("Juba Women")
    assert partner["actorMapping"] is None
    assert [c["name"] for c in partner["contactPersons"]] == ["Mary Akech"]
    assert all(d["rationale"] is None and d["dissents"] == [] for d in partner["decisions"])
    assert_no_leak(body, INTERNAL_TO_THE_MISSION)


def test_a_partner_sees_only_itself_in_partners_whatever_the_filter(world: World) -> None:
    query = """query($f: PartnerFilterInput) { partners(first: 100, filter: $f) {
                 totalCount edges { node { id name } } } }"""
    me = as_partner(world, world.outsider)
    for wanted in ({}, {"search": "Juba"}, {"kinds": ["women's group"]}, {"statuses": ["active"]},
                   {"currentRiskRatings": ["medium", "significant", "high"]}, {"countries": ["SS"]}):  # fmt: skip
        body = world.gql(query, {"f": wanted}, **me)
        assert "errors" not in body, body
        found = {e["node"]["id"] for e in body["data"]["partners"]["edges"]}
        assert found <= {world.outsider}, (wanted, found)
        assert body["data"]["partners"]["totalCount"] == len(found)
        assert_no_leak(body)


def test_another_partners_record_is_not_found_by_any_query(world: World) -> None:
    s = world.story
    me = as_partner(world, world.outsider)
    attempts = [
        ("query($i: ID!) { partner(id: $i) { name contactPersons { name } } }", s.partner),
        ("query($i: ID!) { engagement(id: $i) { title summary } }", s.engagement),
        ("query($i: ID!) { riskAssessment(id: $i) { risks { description } } }", s.assessment),
        ("query($i: ID!) { riskAssessment(id: $i, version: 1) { title } }", s.assessment),
        ("query($i: ID!) { decision(id: $i) { rationale conditions } }", s.decision),
        ("query($i: ID!) { history(id: $i) { actorId } }", s.partner),
        ("query($i: ID!) { history(id: $i) { actorId } }", s.decision),
    ]
    for document, global_id in attempts:
        body = world.gql(document, {"i": global_id}, **me)
        assert refused(body), (document, body)
        assert_no_leak(body)


FORGED_TYPES = (
    ids.PARTNER, ids.ENGAGEMENT, ids.RISK_ASSESSMENT, ids.DECISION, ids.CONTACT_PERSON,
    ids.FOLLOW_UP, ids.RISK, ids.MITIGATION, ids.TIMELINE_ENTRY, "AccessLog", "Nonsense",
)  # fmt: skip
RECORD_FIELDS = ("partner", "engagement", "riskAssessment", "decision", "history")


def test_forged_global_ids_of_every_type_reach_nothing_of_another_partner(world: World) -> None:
    s = world.story
    raw_ids = [
        raw(s.partner), raw(s.engagement), raw(s.assessment), raw(s.decision), raw(s.contact),
        raw(s.follow_up), raw(world.risk), raw(world.mitigation), ids.split(world.entry)[1],
    ]  # fmt: skip
    me = as_partner(world, world.outsider)
    selections = {
        "partner": "{ id name }",
        "engagement": "{ id title }",
        "riskAssessment": "{ id title }",
        "decision": "{ id outcome }",
        "history": "{ version }",
    }
    for type_name in FORGED_TYPES:
        for raw_id in raw_ids:
            forged = ids.encode(type_name, raw_id)
            for field in RECORD_FIELDS:
                document = f"query($i: ID!) {{ {field}(id: $i) {selections[field]} }}"
                body = world.gql(document, {"i": forged}, **me)
                assert refused(body) or codes(body) == {"VALIDATION"}, (type_name, field, body)
                assert_no_leak(body)


def test_aliases_and_fragments_do_not_widen_what_a_partner_reads(world: World) -> None:
    s = world.story
    me = as_partner(world, world.outsider)
    body = world.gql(
        """query($mine: ID!, $other: ID!) {
             mine: partner(id: $mine) { ...Card }
             theirs: partner(id: $other) { ...Card }
             again: partner(id: $other) { ... on Partner { name contactPersons { name } } }
           }
           fragment Card on Partner { id name contactPersons { name } decisions { rationale } }""",
        {"mine": world.outsider, "other": s.partner},
        **me,
    )
    assert codes(body) & {"NOT_FOUND", "FORBIDDEN"}
    assert_no_leak(body)
    aliased = world.gql(
        """query($other: ID!) { a: decision(id: $other) { id } b: history(id: $other) { version }
             c: timeline(partnerIds: [$other]) { edges { node { title } } } }""",
        {"other": s.partner},
        **me,
    )
    assert codes(aliased) & {"NOT_FOUND", "FORBIDDEN"}
    assert_no_leak(aliased)


def test_a_partner_timeline_holds_only_entries_concerning_it(world: World) -> None:
    s = world.story
    me = as_partner(world, s.other)  # took part in the story's engagement, nothing else
    body = world.gql("{ timeline(first: 100) { edges { node { id partnerIds title } } } }", **me)
    assert "errors" not in body, body
    nodes = [e["node"] for e in body["data"]["timeline"]["edges"]]
    assert nodes
    assert all(s.other in n["partnerIds"] for n in nodes)
    assert_no_leak(body, INTERNAL_TO_THE_MISSION)
    foreign = world.gql(
        "query($p: [ID!]) { timeline(partnerIds: $p) { edges { node { id } } } }",
        {"p": [s.partner]},
        **me,
    )
    assert refused(foreign), foreign
    mixed = world.gql(
        "query($p: [ID!]) { timeline(partnerIds: $p) { edges { node { id } } } }",
        {"p": [s.other, s.partner]},
        **me,
    )
    assert refused(mixed), mixed


def test_a_co_participant_sees_the_shared_engagement_but_not_the_others_assessments_or_decisions(
    world: World,
) -> None:
    s = world.story
    me = as_partner(world, s.other)
    shared = world.gql("query($e: ID!) { engagement(id: $e) { title } }", {"e": s.engagement}, **me)
    assert "errors" not in shared, shared
    for document, global_id in (
        ("query($i: ID!) { riskAssessment(id: $i) { title } }", s.assessment),
        ("query($i: ID!) { decision(id: $i) { outcome } }", s.decision),
        ("query($i: ID!) { partner(id: $i) { name } }", s.partner),
    ):
        body = world.gql(document, {"i": global_id}, **me)
        assert refused(body), (document, body)
        assert_no_leak(body, (*INTERNAL_TO_THE_MISSION, "Mary Akech"))


def test_cursors_minted_for_another_caller_are_refused(world: World) -> None:
    me = as_partner(world, world.outsider)
    body = world.gql(
        "query($c: String) { partners(first: 5, after: $c) { edges { node { name } } } }",
        {"c": world.hro_cursor},
        **me,
    )
    assert codes(body) == {"VALIDATION"}, body
    assert_no_leak(body)
    own = world.gql("{ partners(first: 1) { pageInfo { endCursor } } }", **me)
    cursor = own["data"]["partners"]["pageInfo"]["endCursor"]
    other_partner = as_partner(world, world.story.partner)
    body = world.gql(
        "query($c: String) { partners(first: 5, after: $c) { edges { node { name } } } }",
        {"c": cursor},
        **other_partner,
    )
    assert codes(body) == {"VALIDATION"}, body


def test_a_partner_exports_only_its_own_timeline(world: World) -> None:
    s = world.story
    token = world.api.token("partner", raw(world.outsider))
    headers = {"Authorization": f"Bearer {token}"}
    for suffix in ("csv", "json"):
        for target in (s.partner, raw(s.partner), s.other):
            response = world.api.client.get(
                f"/partners/{target}/timeline.{suffix}", headers=headers
            )
            assert response.status_code in (403, 404), (target, response.text)
            assert_no_leak(response.text)
        own = world.api.client.get(f"/partners/{world.outsider}/timeline.{suffix}", headers=headers)
        assert own.status_code == 200, own.text


def test_history_is_refused_to_partners_even_for_their_own_record(world: World) -> None:
    s = world.story
    body = world.gql(
        "query($i: ID!) { history(id: $i) { actorId reason } }",
        {"i": s.partner},
        **as_partner(world, s.partner),
    )
    assert codes(body) == {"FORBIDDEN"}
    assert_no_leak(body, INTERNAL_TO_THE_MISSION)


def test_a_partner_reads_a_decision_about_it_without_rationale_dissent_or_sources(
    world: World,
) -> None:
    s = world.story
    body = world.gql(
        """query($d: ID!) { decision(id: $d) { outcome conditions reviewDue rationale dissents
             reliedOn { assessment { risks { description confidentialSources } } } } }""",
        {"d": s.decision},
        **as_partner(world, s.partner),
    )
    assert "errors" not in body, body
    decision = body["data"]["decision"]
    assert decision["outcome"] == "approved with conditions"
    assert decision["rationale"] is None
    assert decision["dissents"] == []
    assert_no_leak(body, INTERNAL_TO_THE_MISSION)


def test_a_partner_may_not_read_the_risk_register(world: World) -> None:
    body = world.gql("{ riskRegister { partnerId } }", **as_partner(world, world.story.partner))
    assert codes(body) == {"FORBIDDEN"}


INCLUSION = "query($e: ID!) { inclusionProof(eventId: $e) { event { streamId version } } }"


def test_a_partner_gets_inclusion_proofs_only_of_events_concerning_it(world: World) -> None:
    """Own record and a shared engagement: proofs. Another partner's record, assessment and
    decision, by raw or global id of any type: NOT_FOUND, over GraphQL and REST."""
    s = world.story
    with audit_ledger(world.api.client.app.state.settings) as ledger:  # type: ignore[attr-defined]
        ledger.checkpoint()
    me = as_partner(world, s.other)  # took part in the story's engagement, nothing else
    for record in (s.other, s.engagement):
        body = world.gql(INCLUSION, {"e": f"{raw(record)}:1"}, **me)
        assert "errors" not in body, body
        assert body["data"]["inclusionProof"]["event"]["streamId"] == raw(record)
    headers = {"Authorization": f"Bearer {world.api.token('partner', raw(s.other))}"}
    for record in (s.partner, s.assessment, s.decision, world.outsider):
        for event in (
            f"{raw(record)}:1",
            ids.encode(ids.TIMELINE_ENTRY, f"{raw(record)}:1"),
            ids.encode(ids.EVENT, f"{raw(record)}:1"),
        ):
            body = world.gql(INCLUSION, {"e": event}, **me)
            assert codes(body) == {"NOT_FOUND"}, (record, event, body)
            assert not (body.get("data") or {}).get("inclusionProof")
            response = world.api.client.get(
                "/ledger/proofs/inclusion", params={"event": event}, headers=headers
            )
            assert response.status_code == 404, (event, response.text)
            assert "leaf_hash" not in response.text
            assert_no_leak(response.text)
