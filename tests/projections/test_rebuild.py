"""Rebuilding every view from the log gives exactly the views built incrementally.

Sealed columns are compared decrypted (their nonces differ from one build to the next); the
blind index is deterministic and compared as stored.
"""

from __future__ import annotations

from datetime import date
from uuid import uuid4

from domain.access_log import AccessLog, Read
from domain.actors import SYSTEM, Actor, acting_as
from domain.application import PartnershipRegistry
from domain.personal_data import PersonalData
from projections.follower import ViewFollower
from projections.rebuild import rebuild_all
from projections.schema import TRACKING_TABLE, VIEW_TABLES
from projections.store import Row, ViewStore


def contents(store: ViewStore) -> dict[str, list[Row]]:
    found = {}
    for table in (*VIEW_TABLES, TRACKING_TABLE):
        rows = store.query(f"SELECT * FROM {table}", sealed=table)
        found[table] = sorted(rows, key=lambda r: [str(v) for v in r.values()])
    return found


def record_a_little_of_everything(registry: PartnershipRegistry) -> None:
    a = registry.register_partner("Alpha", "women's group", "local", countries=["CF"], on="2018")
    b = registry.register_partner("Beta", "media", "national", focus_areas=["prevention"])
    registry.update_profile(a.id, "Alpha Renamed", "women's group", "local", countries=["CF", "ML"])
    e = registry.record_engagement(
        "roundtable", "Talks", "2019-05", partners=[(a.id, "convener"), (b.id, "participant")]
    )
    registry.correct_engagement(e.id, "typo in the title", title="Peace talks", start="2019-06")
    assessment = registry.open_risk_assessment(b.id)
    registry.add_risk(assessment.id, "perceived partiality", 2, 3, "polarised audience")
    registry.add_mitigation(assessment.id, "balanced programming", "Public Information")
    registry.submit_risk_assessment(assessment.id)
    registry.finalise_risk_assessment(assessment.id)
    d = registry.propose_decision(b.id, "information sharing", [assessment.id])
    registry.decide(d.id, "approved", "low risk", review_due=date(2031, 1, 1))
    registry.suspend_partner(a.id, "under investigation")


def record_every_kind_of_event(registry: PartnershipRegistry) -> None:
    """At least one event of every class a view handles, with the values views read varied."""
    record_a_little_of_everything(registry)
    a = registry.register_partner(
        "Gamma Réseau", "network", "regional", acronym="GR", countries=["ML", "NE"],
        focus_areas=["prevention", "early warning"], former_names=["Old Gamma"], on="2017-03",
    )  # fmt: skip
    person = registry.add_contact_person(a.id, "Awa", role="coordinator", email="a@example.org")
    assert person.item_id is not None
    registry.remove_contact_person(a.id, person.item_id)
    registry.update_actor_mapping(a.id, 4, 3, stance="supportive")
    registry.activate_partner(a.id)
    registry.suspend_partner(a.id, "reprisal risk")
    registry.reinstate_partner(a.id, "risk mitigated")
    e = registry.record_engagement(
        "online consultation", "Consultation", "2021-02-03", end="2021-02-05",
        partners=[(a.id, "co-facilitator")], virtual=True, summary="Said much.",
        individual_participants=[PersonalData(uuid4(), "Binta", "youth delegate", "", "")],
    )  # fmt: skip
    follow_up = registry.add_follow_up(e.id, "Send the notes", "Civil Affairs", due="2021-03-01")
    assert follow_up.item_id is not None
    registry.complete_follow_up(e.id, follow_up.item_id)
    registry.correct_engagement(e.id, "wrong end", end="2021-02-06", location="Bamako")
    first = registry.open_risk_assessment(a.id, title="Before the talks")
    registry.add_risk(
        first.id, "reprisal or intimidation risk to the partner", 4, 5, "threats reported"
    )
    mitigation = registry.add_mitigation(first.id, "escort", "Force", due="2021-04-01")
    assert mitigation.item_id is not None
    registry.update_mitigation_status(first.id, mitigation.item_id, "in progress")
    registry.submit_risk_assessment(first.id)
    registry.finalise_risk_assessment(first.id)
    second = registry.open_risk_assessment(a.id, engagement_id=e.id)
    registry.add_risk(second.id, "fraud or diversion", 1, 2, "small grants")
    registry.submit_risk_assessment(second.id)
    registry.finalise_risk_assessment(second.id)
    registry.supersede_risk_assessment(first.id, second.id)
    third = registry.open_risk_assessment(a.id)
    registry.withdraw_risk_assessment(third.id, "opened twice")
    d = registry.propose_decision(a.id, "joint activity", [second.id], reason="asked for")
    registry.decide(d.id, "approved with conditions", "low risk", conditions=["report monthly"],
                    review_due="2031-06-30")  # fmt: skip
    registry.record_dissent(d.id, "too early")
    registry.record_communication(d.id, "letter", note="sent by post")
    registry.review_decision(d.id, "continue", "all well", relied_on=[second.id])
    log = AccessLog.open(date(2021, 5, 1))
    with acting_as(Actor("registry", SYSTEM)):
        log.record_reads([Read("2021-05-01T10:00:00.000000+00:00", "hro-1", "human rights officer",
                               "partner", str(a.id))])  # fmt: skip
        registry.save(log)


def test_rebuilt_views_equal_the_incrementally_built_ones(
    registry: PartnershipRegistry, store: ViewStore
) -> None:
    with ViewFollower(registry, store) as follower:
        record_every_kind_of_event(registry)
        follower.wait_until_projected(registry.max_position(), timeout=10)
    incremental = contents(store)
    assert len(incremental["view_history"]) == registry.max_position()
    assert incremental["view_access_log"]
    assert any(row["status"] == "superseded" for row in incremental["view_assessments"])

    calls: list[tuple[int, int]] = []
    replayed = rebuild_all(app=registry, progress=lambda done, total: calls.append((done, total)))

    assert replayed == registry.max_position()
    assert calls[0] == (0, replayed)
    assert calls[-1] == (replayed, replayed)
    assert contents(store) == incremental
