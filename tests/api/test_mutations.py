"""Every mutation over HTTP returns the changed object, and the views already show it."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.api.scenario import tell


def test_every_command_runs_through_the_api_and_is_readable_at_once(api: Api) -> None:
    story = tell(api)
    partner = api.data(
        """query($p: ID!) { partner(id: $p) { name acronym status version currentRiskRating
             formerNames countries focusAreas
             actorMapping { interest influence stance relationships { counterpart partnerId } }
             contactPersons { name email }
             engagements { title role followUps { action done } participantsTotal }
             riskAssessments { status rating }
             decisions { outcome conditions reviews { outcome } communications { channel } } } }""",
        {"p": story.partner},
    )["partner"]
    assert partner["name"] == "Juba Women Peace Network"
    assert partner["formerNames"] == ["Juba Women's Peace Network"]
    assert partner["status"] == "active"
    assert partner["currentRiskRating"] == "medium"
    assert partner["actorMapping"]["relationships"][0]["partnerId"] == story.other
    assert partner["contactPersons"] == [{"name": "Mary Akech", "email": "mary@example.org"}]
    engagement = partner["engagements"][0]
    assert engagement["role"] == "convener"
    assert engagement["participantsTotal"] == 42
    assert engagement["followUps"] == [{"action": "Share the minutes", "done": True}]
    assert sorted(a["status"] for a in partner["riskAssessments"]) == [
        "finalised", "superseded", "withdrawn",
    ]  # fmt: skip
    decision = partner["decisions"][0]
    assert decision["outcome"] == "approved with conditions"
    assert decision["conditions"] == ["No public branding"]
    assert decision["reviews"] == [{"outcome": "continue"}]
    assert decision["communications"] == [{"channel": "meeting"}]
    other = api.data("query($p: ID!) { partner(id: $p) { status } }", {"p": story.other})
    assert other["partner"]["status"] == "reinstated"


def test_erasing_a_contact_keeps_the_record_and_shows_the_person_as_erased(api: Api) -> None:
    story = tell(api)
    erased = api.data(
        """mutation($c: ID!) { erasePersonalData(personId: $c, reason: "Request of 2024-05-02")
             { personId } }""",
        {"c": story.contact},
        role="admin",
    )
    assert erased["erasePersonalData"]["personId"] == story.contact
    contacts = api.data(
        "query($p: ID!) { partner(id: $p) { contactPersons { name erased } decisions { id } } }",
        {"p": story.partner},
    )["partner"]
    assert contacts["contactPersons"] == [{"name": "[erased]", "erased": True}]
    assert contacts["decisions"][0]["id"] == story.decision


def test_a_mutation_returns_the_change_and_the_next_query_sees_it(api: Api) -> None:
    created = api.data(
        """mutation { registerPartner(name: "Bor Peace Committee", kind: "local CSO",
             scope: "local") { id name version status } }""",
        role="recorder",
    )["registerPartner"]
    assert created["version"] == 1
    assert created["status"] == "registered"
    listed = api.data("{ partners(first: 10) { edges { node { id } } totalCount } }")["partners"]
    assert [e["node"]["id"] for e in listed["edges"]] == [created["id"]]
