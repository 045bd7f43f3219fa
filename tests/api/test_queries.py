"""Each query of the contract answers over HTTP: me, partner(s), timeline, decision, register, history."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from tests.api.conftest import Api, raw
from tests.api.scenario import register, tell


def test_me_names_the_caller_and_a_partner_its_organisation(api: Api) -> None:
    story = tell(api)
    me = api.data("{ me { subject role organisationId } }", role="partner", org=raw(story.partner))
    assert me["me"] == {
        "subject": "test-partner",
        "role": "partner",
        "organisationId": story.partner,
    }


def test_partners_filter_by_kind_country_status_rating_focus_and_text(api: Api) -> None:
    story = tell(api)
    query = "query($f: PartnerFilterInput) { partners(filter: $f) { edges { node { id } } totalCount } }"

    def ids(f: dict[str, object]) -> list[str]:
        return [e["node"]["id"] for e in api.data(query, {"f": f})["partners"]["edges"]]

    assert ids({"kinds": ["youth group"]}) == [story.other]
    assert ids({"currentRiskRatings": ["medium"]}) == [story.partner]
    assert ids({"search": "jwpn"}) == [story.partner]
    assert ids({"search": "women's peace"}) == [story.partner]  # a former name
    assert ids({"statuses": ["closed"]}) != []
    assert ids({"countries": ["SS"], "focusAreas": ["WPS"], "scopes": ["national"]}) == [
        story.partner
    ]


def test_timeline_shows_dates_to_their_precision_and_filters_by_period(api: Api) -> None:
    story = tell(api)
    data = api.data(
        """{ timeline(from: "2024", to: "2024", kinds: ["engagement"]) { edges { node {
             kind title validTime { text precision start end } partnerIds partnerKinds
             recordedLate actorRole } } } }"""
    )
    [entry] = [e["node"] for e in data["timeline"]["edges"]]
    assert entry["validTime"] == {
        "text": "2024-03", "precision": "month", "start": "2024-03-01", "end": "2024-03-31",
    }  # fmt: skip
    assert set(entry["partnerIds"]) == {story.partner, story.other}
    assert entry["recordedLate"] is True
    year = api.data(
        '{ timeline(from: "2019", to: "2019-12-31") { edges { node { validTime { text } kind } } } }'
    )
    texts = {e["node"]["validTime"]["text"] for e in year["timeline"]["edges"]}
    assert texts == {"2019"}
    women = api.data(
        """{ timeline(partnerKinds: ["women's group"], kinds: ["engagement"]) {
             edges { node { title } } } }"""
    )
    assert len(women["timeline"]["edges"]) == 1


def test_decision_shows_who_why_conditions_reviews_and_relied_on_as_cited(api: Api) -> None:
    story = tell(api)
    decision = api.data(
        """query($d: ID!) { decision(id: $d) { outcome rationale conditions proposer decider
             reviewDue overdue dissents decidedOn { text }
             reviews { outcome reviewer note } communications { channel note }
             reliedOn { citedVersion currentVersion currentStatus changedSince
               assessment { id version status rating risks { likelihood impact rating description }
                            mitigations { measure status } } } } }""",
        {"d": story.decision},
    )["decision"]
    assert decision["outcome"] == "approved with conditions"
    assert decision["rationale"] == "Risk mitigated by off-site meetings"
    assert decision["proposer"] == "officer-proposer"
    assert decision["decider"] == "hro-decider"
    assert decision["overdue"] is False
    assert decision["dissents"] == ["Exposure risk is understated"]
    assert decision["reviews"][0]["reviewer"] == "hro-reviewer"
    [cited] = decision["reliedOn"]
    assert cited["citedVersion"] == story.cited_version
    assert cited["assessment"]["version"] == story.cited_version
    assert cited["assessment"]["status"] == "finalised"  # as it stood, though superseded since
    assert cited["currentStatus"] == "superseded"
    assert cited["changedSince"] is True
    assert cited["assessment"]["mitigations"] == [
        {"measure": "Meet off-site", "status": "in progress"}
    ]
    assert cited["assessment"]["risks"][0]["rating"] == "significant"


def test_risk_register_lists_ratings_and_open_mitigations(api: Api) -> None:
    story = tell(api)
    rows = api.data(
        """{ riskRegister { partnerId currentRating openMitigations { measure status }
             overdueDecisions { id } } }"""
    )["riskRegister"]
    [row] = [r for r in rows if r["partnerId"] == story.partner]
    assert row["currentRating"] == "medium"
    assert {m["status"] for m in row["openMitigations"]} <= {"planned", "in progress"}
    overdue = api.data("{ riskRegister(filter: {onlyOverdue: true}) { partnerId } }")
    assert overdue["riskRegister"] == []


def test_history_lists_every_event_with_actor_role_reason_and_version(api: Api) -> None:
    story = tell(api)
    events = api.data(
        "query($d: ID!) { history(id: $d) { version eventType actorId actorRole reason recordedAt } }",
        {"d": story.decision},
    )["history"]
    assert [e["version"] for e in events] == [1, 2, 3, 4, 5]
    assert [e["eventType"] for e in events][:2] == ["Proposed", "Decided"]
    assert events[1]["reason"] == "Risk mitigated by off-site meetings"
    assert events[1]["actorId"] == "hro-decider"


def test_engagement_and_risk_assessment_queries_give_details(api: Api) -> None:
    story = tell(api)
    engagement = api.data(
        """query($e: ID!) { engagement(id: $e) { title date { text } missionComponents
             participantsWomen partners { role partner { name } } outcomes } }""",
        {"e": story.engagement},
    )["engagement"]
    assert engagement["date"]["text"] == "2024-03"
    assert engagement["partners"][0]["partner"]["name"] == "Juba Women Peace Network"
    first = api.data(
        "query($a: ID!) { riskAssessment(id: $a, version: 1) { status version risks { id } } }",
        {"a": story.assessment},
    )["riskAssessment"]
    assert first == {"status": "draft", "version": 1, "risks": []}


def test_as_of_shows_the_whole_record_as_recorded_at_that_instant(api: Api) -> None:
    partner = register(api, "Malakal Mediators")
    time.sleep(0.02)
    before = datetime.now(tz=UTC).isoformat()
    time.sleep(0.02)
    api.data(
        """mutation($p: ID!) { updateProfile(partnerId: $p, name: "Malakal Mediation Network",
             kind: "network", scope: "regional") { id } }""",
        {"p": partner},
        role="recorder",
    )
    api.data(
        "mutation($p: ID!) { activatePartner(partnerId: $p) { id } }",
        {"p": partner},
        role="recorder",
    )
    api.data(
        """mutation($p: ID!) { recordEngagement(input: {kind: "consultation", title: "Later",
             on: "2024-05-02", partners: [{partnerId: $p}]}) { id } }""",
        {"p": partner},
        role="recorder",
    )
    query = """query($p: ID!, $t: DateTime) { partner(id: $p, asOf: $t) { name kind status version
                formerNames engagements { title } timeline { kind } } }"""
    then = api.data(query, {"p": partner, "t": before})["partner"]
    now = api.data(query, {"p": partner, "t": None})["partner"]
    assert then == {
        "name": "Malakal Mediators", "kind": "women's group", "status": "registered", "version": 1,
        "formerNames": [], "engagements": [], "timeline": [{"kind": "partner_registered"}],
    }  # fmt: skip
    assert now["name"] == "Malakal Mediation Network"
    assert now["formerNames"] == ["Malakal Mediators"]
    assert [e["title"] for e in now["engagements"]] == ["Later"]
    error = api.error(query, {"p": partner, "t": "2000-01-01T00:00:00Z"})
    assert error["extensions"]["code"] == "NOT_FOUND"


def test_as_of_lists_an_engagement_that_named_the_partner_then_though_corrected_since(
    api: Api,
) -> None:
    kept = register(api, "Bor Dialogue Forum")
    dropped = register(api, "Pibor Youth Union", "youth group")
    engagement = api.data(
        """mutation($k: ID!, $d: ID!) { recordEngagement(input: {kind: "consultation",
             title: "County dialogue", on: "2024-05-02",
             partners: [{partnerId: $k}, {partnerId: $d, role: "co-facilitator"}]}) { id } }""",
        {"k": kept, "d": dropped},
        role="recorder",
    )["recordEngagement"]["id"]
    time.sleep(0.02)
    before = datetime.now(tz=UTC).isoformat()
    time.sleep(0.02)
    api.data(
        """mutation($e: ID!, $k: ID!) { correctEngagement(engagementId: $e,
             reason: "The youth union did not attend", changes: {partners: [{partnerId: $k}]})
             { id } }""",
        {"e": engagement, "k": kept},
        role="recorder",
    )
    query = """query($p: ID!, $t: DateTime) { partner(id: $p, asOf: $t) {
                engagements { id title role } } }"""

    def listed(partner: str, moment: str | None, **kw: Any) -> list[dict[str, Any]]:
        found = api.data(query, {"p": partner, "t": moment}, **kw)["partner"]["engagements"]
        return list(found)

    named_then = {"id": engagement, "title": "County dialogue", "role": "co-facilitator"}
    assert listed(dropped, before) == [named_then]
    assert listed(dropped, None) == []
    assert listed(dropped, datetime.now(tz=UTC).isoformat()) == []
    assert [e["id"] for e in listed(kept, before)] == [engagement]
    # The dropped partner's own organisation: no longer its record, then or now.
    assert listed(dropped, before, role="partner", org=raw(dropped)) == []
    assert [e["id"] for e in listed(kept, before, role="partner", org=raw(kept))] == [engagement]
