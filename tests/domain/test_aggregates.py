"""The aggregates on their own, without storage: events carry who, when and why."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from domain.actors import HUMAN_RIGHTS_OFFICER, RECORDER, Actor, acting_as
from domain.decision import DueDiligenceDecision, ReliedOn, cite
from domain.engagement import Engagement, EngagementDetails, EngagementPartner
from domain.errors import MissingActor, RuleViolation, ValidationError
from domain.partner import PartnerOrganisation, Profile
from domain.risk_assessment import Risk, RiskAssessment
from domain.valid_time import ValidTime
from domain.validation import valid_time
from domain.vocabulary import (
    ENGAGEMENT_KINDS,
    FOCUS_AREAS,
    PARTNER_KINDS,
    PARTNER_ROLES,
    RISK_CATEGORIES,
    check_word,
)

RECORDER_ACTOR = Actor("recorder-1", RECORDER)
HRO = Actor("hro-1", HUMAN_RIGHTS_OFFICER)
TODAY = ValidTime.on(date.today())


def test_a_command_without_an_acting_user_is_refused() -> None:
    with pytest.raises(MissingActor):
        PartnerOrganisation.register(Profile("Network", "network", "local"), TODAY)


def test_registering_a_partner_stamps_the_actor_and_valid_time() -> None:
    with acting_as(RECORDER_ACTOR):
        partner = PartnerOrganisation.register(
            Profile(" Network ", "network", "local"), ValidTime.parse("2019")
        )
    (event,) = partner.collect_events()
    assert isinstance(event, PartnerOrganisation.Registered)
    assert (event.actor_id, event.actor_role, str(event.valid_time)) == (
        "recorder-1",
        "recorder",
        "2019",
    )
    assert partner.profile.name == "Network"
    assert partner.status == "registered"


def test_a_suspension_needs_a_reason_and_records_it() -> None:
    with acting_as(RECORDER_ACTOR):
        partner = PartnerOrganisation.register(Profile("Network", "network", "local"), TODAY)
        with pytest.raises(ValidationError):
            partner.suspend("", TODAY)
        assert len(partner.collect_events()) == 1
        partner.suspend(" reprisals ", TODAY)
    assert (partner.status, partner.status_reason) == ("suspended", "reprisals")


def test_the_demo_vocabulary_is_accepted() -> None:
    for kind in ("research institute", "women's group", "human rights defenders' group", "media"):
        assert check_word("kind", kind, PARTNER_KINDS) == kind
    for area in ("mediation", "development", "peacebuilding", "peace operations", "WPS", "YPS"):
        assert area in FOCUS_AREAS
    assert "advisory mechanism established" in ENGAGEMENT_KINDS
    assert {"member", "convener", "co-facilitator", "participant"} <= PARTNER_ROLES
    assert "perceived partiality" in RISK_CATEGORIES


def test_an_unknown_word_is_refused_listing_the_allowed_ones() -> None:
    with pytest.raises(ValidationError) as caught:
        check_word("scope", "galactic", frozenset({"local", "national"}))
    assert (caught.value.field, caught.value.rule) == ("scope", "vocabulary")
    assert "['local', 'national']" in caught.value.message


def test_a_valid_time_in_the_future_is_refused_but_today_is_not() -> None:
    today = date(2024, 5, 1)
    assert valid_time("2024-05", today=today) == ValidTime(date(2024, 5, 1), "month")
    with pytest.raises(ValidationError) as caught:
        valid_time(today + timedelta(days=1), today=today)
    assert caught.value.rule == "not_in_future"


def test_an_engagement_ending_within_its_start_month_is_accepted() -> None:
    details = EngagementDetails(
        "roundtable", "R", ValidTime.parse("2020-03-14"), end=ValidTime.parse("2020-03")
    )
    assert details.checked().end == ValidTime.parse("2020-03")


def test_an_engagement_event_carries_its_partner_ids() -> None:
    partner = uuid4()
    with acting_as(RECORDER_ACTOR):
        engagement = Engagement.record(
            EngagementDetails(
                "roundtable", "R", TODAY, partners=(EngagementPartner(partner, "member"),)
            )
        )
    (event,) = engagement.collect_events()
    assert getattr(event, "partner_ids", None) == (partner,)


def finalised(partner_id: object, likelihood: int = 2, impact: int = 2) -> RiskAssessment:
    with acting_as(RECORDER_ACTOR):
        assessment = RiskAssessment.open(partner_id, TODAY)  # type: ignore[arg-type]
        assessment.add_risk(Risk(uuid4(), "fraud or diversion", likelihood, impact, "d"))
        assessment.submit(TODAY)
    with acting_as(HRO):
        assessment.finalise(TODAY)
    return assessment


def test_a_citation_keeps_the_version_rating_and_finalisation_date() -> None:
    partner = uuid4()
    assessment = finalised(partner, 4, 4)
    assert cite(assessment, partner) == ReliedOn(assessment.id, 4, 16, "high", TODAY.start)
    with pytest.raises(RuleViolation) as caught:
        cite(assessment, uuid4())
    assert caught.value.rule == "assessment_of_other_partner"


def test_the_two_person_rule_applies_in_the_aggregate() -> None:
    partner = uuid4()
    assessment = finalised(partner, 3, 4)
    with acting_as(HRO):
        decision = DueDiligenceDecision.propose(
            partner, "funding", (cite(assessment, partner),), TODAY
        )
        with pytest.raises(RuleViolation) as caught:
            decision.decide(
                "declined",
                "no",
                TODAY,
                180,
                frozenset({assessment.id}),
            )
    assert caught.value.rule == "two_person_rule"
    assert len(decision.collect_events()) == 1
