"""One story through every mutation, used by several tests: ids of what it created."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tests.api.conftest import Api

PARTNER_FIELDS = "id name status version currentRiskRating"
ENGAGEMENT_FIELDS = "id title version followUps { id action done }"
ASSESSMENT_FIELDS = "id status rating version risks { id } mitigations { id status }"
DECISION_FIELDS = "id status outcome version"


@dataclass
class Story:
    partner: str
    other: str
    engagement: str
    assessment: str
    newer_assessment: str
    decision: str
    contact: str
    follow_up: str
    cited_version: int


def register(api: Api, name: str, kind: str = "women's group", **extra: Any) -> str:
    data = api.data(
        f"""mutation($name: String!, $kind: String!, $countries: [String!]) {{
          registerPartner(name: $name, kind: $kind, scope: "local", countries: $countries,
                          focusAreas: ["WPS"], on: "2019") {{ {PARTNER_FIELDS} }} }}""",
        {"name": name, "kind": kind, "countries": extra.get("countries", ["SS"])},
        role="recorder",
    )
    return str(data["registerPartner"]["id"])


def finalised_assessment(api: Api, partner: str, likelihood: int = 3) -> str:
    opened = api.data(
        f"""mutation($p: ID!) {{ openRiskAssessment(partnerId: $p, title: "Annual", on: "2024-01")
            {{ {ASSESSMENT_FIELDS} }} }}""",
        {"p": partner},
    )["openRiskAssessment"]["id"]
    api.data(
        """mutation($a: ID!, $l: Int!) { addRisk(assessmentId: $a,
             category: "reprisal or intimidation risk to the partner", likelihood: $l, impact: 3,
             description: "Members were threatened after the last roundtable",
             confidentialSources: "Source K, protection cluster") { id } }""",
        {"a": opened, "l": likelihood},
    )
    api.data(
        """mutation($a: ID!) { addMitigation(assessmentId: $a, measure: "Meet off-site",
              owner: "Human Rights", due: "2030-06-30") { id } }""",
        {"a": opened},
    )
    api.data("mutation($a: ID!) { submitRiskAssessment(assessmentId: $a) { id } }", {"a": opened})
    api.data("mutation($a: ID!) { finaliseRiskAssessment(assessmentId: $a) { id } }", {"a": opened})
    return str(opened)


def tell(api: Api) -> Story:
    """Every mutation at least once, as the roles that may run them."""
    partner = register(api, "Juba Women's Peace Network")
    other = register(api, "Wau Youth Forum", "youth group")
    api.data(
        f"""mutation($p: ID!) {{ updateProfile(partnerId: $p, name: "Juba Women Peace Network",
              kind: "women's group", scope: "national", acronym: "JWPN", countries: ["SS"],
              focusAreas: ["WPS", "protection of civilians"]) {{ {PARTNER_FIELDS} }} }}""",
        {"p": partner},
        role="recorder",
    )
    api.data(
        """mutation($p: ID!, $o: ID!) { updateActorMapping(partnerId: $p, interest: 4, influence: 3,
              stance: "supportive", relationships: [{kind: "partner organisation",
              counterpart: "Wau Youth Forum", partnerId: $o}]) { id } }""",
        {"p": partner, "o": other},
        role="recorder",
    )
    added = api.data(
        """mutation($p: ID!) { a: addContactPerson(partnerId: $p, name: "Mary Akech",
              role: "chair", email: "mary@example.org") { id version } }""",
        {"p": partner},
        role="recorder",
    )
    assert added["a"]["version"] == 4
    api.data(
        """mutation($p: ID!) { addContactPerson(partnerId: $p, name: "Temporary Contact") { id } }""",
        {"p": partner},
        role="recorder",
    )
    contacts = api.data(
        "query($p: ID!) { partner(id: $p) { contactPersons { id name } } }", {"p": partner}
    )["partner"]["contactPersons"]
    by_name = {c["name"]: c["id"] for c in contacts}
    api.data(
        "mutation($p: ID!, $c: ID!) { removeContactPerson(partnerId: $p, personId: $c) { id } }",
        {"p": partner, "c": by_name["Temporary Contact"]},
        role="recorder",
    )
    for p in (partner, other):
        api.data(
            "mutation($p: ID!) { activatePartner(partnerId: $p) { id } }", {"p": p}, role="recorder"
        )
    engagement = api.data(
        f"""mutation($p: ID!, $o: ID!) {{ recordEngagement(input: {{kind: "roundtable",
              title: "Women's consultation on the local peace agreement", on: "2024-03",
              partners: [{{partnerId: $p, role: "convener"}}, {{partnerId: $o}}],
              missionComponents: ["Civil Affairs", "Gender"], summary: "=cmd|' /C calc'!A0",
              participants: {{total: 40, women: 31, youth: 12}}, confidentiality: "internal",
              outcomes: ["A protection focal point per county"]}}) {{ {ENGAGEMENT_FIELDS} }} }}""",
        {"p": partner, "o": other},
        role="recorder",
    )["recordEngagement"]["id"]
    api.data(
        """mutation($e: ID!) { correctEngagement(engagementId: $e, reason: "Minutes give 42",
              changes: {participants: {total: 42, women: 31, youth: 12}}) { id } }""",
        {"e": engagement},
        role="recorder",
    )
    follow_up = api.data(
        f"""mutation($e: ID!) {{ addFollowUp(engagementId: $e, action: "Share the minutes",
              owner: "Civil Affairs", due: "2030-01-31") {{ {ENGAGEMENT_FIELDS} }} }}""",
        {"e": engagement},
        role="recorder",
    )["addFollowUp"]["followUps"][0]["id"]
    api.data(
        "mutation($e: ID!, $f: ID!) { completeFollowUp(engagementId: $e, followUpId: $f) { id } }",
        {"e": engagement, "f": follow_up},
        role="recorder",
    )
    assessment = finalised_assessment(api, partner, likelihood=4)
    mitigation = api.data(
        f"query($a: ID!) {{ riskAssessment(id: $a) {{ {ASSESSMENT_FIELDS} }} }}", {"a": assessment}
    )["riskAssessment"]["mitigations"][0]["id"]
    api.data(
        """mutation($a: ID!, $m: ID!) { updateMitigationStatus(assessmentId: $a,
              mitigationId: $m, status: "in progress") { id } }""",
        {"a": assessment, "m": mitigation},
    )
    cited_version = api.data(
        "query($a: ID!) { riskAssessment(id: $a) { version } }", {"a": assessment}
    )["riskAssessment"]["version"]
    decision = api.data(
        f"""mutation($p: ID!, $a: ID!) {{ proposeDecision(partnerId: $p, scope: "joint activity",
              reliedOn: [{{assessmentId: $a}}], reason: "Co-organise the county dialogues")
              {{ {DECISION_FIELDS} }} }}""",
        {"p": partner, "a": assessment},
        role="recorder",
        subject="officer-proposer",
    )["proposeDecision"]["id"]
    review_due = (date.today() + timedelta(days=90)).isoformat()
    api.data(
        """mutation($d: ID!, $due: Date!) { decide(decisionId: $d,
              outcome: "approved with conditions", rationale: "Risk mitigated by off-site meetings",
              conditions: ["No public branding"], reviewDue: $due) { id } }""",
        {"d": decision, "due": review_due},
        subject="hro-decider",
    )
    api.data(
        """mutation($d: ID!) { recordDissent(decisionId: $d,
              dissent: "Exposure risk is understated") { id } }""",
        {"d": decision},
        role="recorder",
    )
    api.data(
        """mutation($d: ID!) { recordCommunication(decisionId: $d, channel: "meeting",
              note: "Explained conditions to the chair") { id } }""",
        {"d": decision},
        role="recorder",
    )
    api.data(
        """mutation($d: ID!, $due: Date!) { reviewDecision(decisionId: $d, outcome: "continue",
              note: "Conditions respected", nextReviewDue: $due) { id } }""",
        {"d": decision, "due": (date.today() + timedelta(days=180)).isoformat()},
        subject="hro-reviewer",
    )
    newer = finalised_assessment(api, partner, likelihood=2)
    api.data(
        "mutation($a: ID!, $b: ID!) { supersedeRiskAssessment(assessmentId: $a, supersededBy: $b) { id } }",
        {"a": assessment, "b": newer},
    )
    draft = api.data(
        'mutation($p: ID!) { openRiskAssessment(partnerId: $p, title: "Mistake") { id } }',
        {"p": partner},
    )["openRiskAssessment"]["id"]
    api.data(
        'mutation($a: ID!) { withdrawRiskAssessment(assessmentId: $a, reason: "Opened twice") { id } }',
        {"a": draft},
    )
    api.data(
        'mutation($p: ID!) { suspendPartner(partnerId: $p, reason: "Pending review") { id } }',
        {"p": other},
    )
    api.data(
        'mutation($p: ID!) { reinstatePartner(partnerId: $p, reason: "Review done") { id } }',
        {"p": other},
    )
    closed = register(api, "Dissolved Committee", "community-based organisation")
    api.data(
        'mutation($p: ID!) { closePartner(partnerId: $p, reason: "Dissolved") { id } }',
        {"p": closed},
        role="recorder",
    )
    return Story(
        partner, other, str(engagement), assessment, newer, str(decision),
        by_name["Mary Akech"], str(follow_up), int(cited_version),
    )  # fmt: skip
