"""Rebuilding the views from the log changes nothing a client can see through the API."""

from __future__ import annotations

from projections.rebuild import rebuild_all
from tests.api.conftest import Api
from tests.api.scenario import tell

EVERYTHING = """query($p: ID!, $d: ID!) {
  partners(first: 100) { edges { cursor node { id name status version currentRiskRating
    engagements { id title date { text } } riskAssessments { id status rating version }
    decisions { id outcome reviewDue } timeline { id kind validTime { text } recordedAt } } } }
  partner(id: $p) { name formerNames contactPersons { name } actorMapping { stance } }
  timeline(first: 100) { edges { cursor node { id kind title validTime { text } recordedLate } } }
  decision(id: $d) { outcome rationale reliedOn { changedSince assessment { version risks { score } } } }
  riskRegister { partnerId currentRating openMitigations { measure } }
  history(id: $d) { version eventType actorId recordedAt }
}"""


def test_queries_answer_the_same_before_and_after_a_rebuild(api: Api) -> None:
    story = tell(api)
    variables = {"p": story.partner, "d": story.decision}
    before = api.data(EVERYTHING, variables)
    api.follower.stop()
    rebuild_all(app=api.registry)
    after = api.data(EVERYTHING, variables)
    assert after == before
