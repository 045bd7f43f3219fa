"""Bad input gets a typed error naming the field and the rule, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from uuid import uuid4

import pytest

from domain.actors import Actor, acting_as
from domain.application import PartnershipRegistry
from domain.engagement import Participants
from domain.errors import NotFound, RuleViolation, ValidationError
from tests.domain.conftest import HRO, RECORDER_ACTOR, World, assert_rejected

TOMORROW = (date.today() + timedelta(days=1)).isoformat()
Command = Callable[[PartnershipRegistry, World], object]


def partner_with(**fields: object) -> Command:
    values: dict[str, object] = {"name": "Network", "kind": "network", "scope": "local"}
    values.update(fields)
    return lambda r, w: r.register_partner(**values)  # type: ignore[arg-type]


def engagement_with(**fields: object) -> Command:
    values: dict[str, object] = {"kind": "roundtable", "title": "Roundtable", "on": "2020-05"}
    values.update(fields)

    def command(r: PartnershipRegistry, w: World) -> object:
        given = {"partners": [(w.partner, "participant")], **values}
        return r.record_engagement(**given)  # type: ignore[arg-type]

    return command


def risk_with(**fields: object) -> Command:
    values: dict[str, object] = {
        "category": "perceived partiality",
        "likelihood": 3,
        "impact": 3,
        "description": "seen as partial",
    }
    values.update(fields)
    return lambda r, w: r.add_risk(w.draft, **values)  # type: ignore[arg-type]


VALIDATION_CASES: list[tuple[str, Command, str, str]] = [
    ("unknown partner kind", partner_with(kind="club"), "kind", "vocabulary"),
    ("unknown scope", partner_with(scope="galactic"), "scope", "vocabulary"),
    ("country not ISO shaped", partner_with(countries=["Sudan"]), "countries[0]", "iso3166_alpha2"),
    ("unknown focus area", partner_with(focus_areas=["knitting"]), "focus_areas", "vocabulary"),
    ("empty name", partner_with(name="   "), "name", "required"),
    ("oversize name", partner_with(name="n" * 301), "name", "max_length"),
    ("partner registered in the future", partner_with(on=TOMORROW), "valid_time", "not_in_future"),
    ("not a date", partner_with(on="2020-13"), "valid_time", "date"),
    ("unknown engagement kind", engagement_with(kind="party"), "kind", "vocabulary"),
    (
        "end before start",
        engagement_with(on="2020-05-10", end="2020-05-09"),
        "end",
        "end_before_start",
    ),
    ("engagement in the future", engagement_with(on=TOMORROW), "start", "not_in_future"),
    ("oversize title", engagement_with(title="t" * 501), "title", "max_length"),
    ("oversize summary", engagement_with(summary="s" * 20_001), "summary", "max_length"),
    (
        "unknown partner role",
        engagement_with(partners=[]),  # replaced below
        "partners[0].role",
        "vocabulary",
    ),
    (
        "more women than participants",
        engagement_with(participants=Participants(total=5, women=6)),
        "participants.women",
        "within_total",
    ),
    (
        "more youth than participants",
        engagement_with(participants=Participants(total=5, youth=9)),
        "participants.youth",
        "within_total",
    ),
    (
        "negative participants",
        engagement_with(participants=Participants(total=-1)),
        "participants.total",
        "non_negative",
    ),
    (
        "unknown mission component",
        engagement_with(mission_components=["Navy"]),
        "mission_components",
        "vocabulary",
    ),
    (
        "unknown confidentiality",
        engagement_with(confidentiality="secret"),
        "confidentiality",
        "vocabulary",
    ),
    ("unknown risk category", risk_with(category="bad vibes"), "category", "vocabulary"),
    ("likelihood 0", risk_with(likelihood=0), "likelihood", "range_1_5"),
    ("likelihood 6", risk_with(likelihood=6), "likelihood", "range_1_5"),
    ("impact 6", risk_with(impact=6), "impact", "range_1_5"),
    ("oversize description", risk_with(description="d" * 20_001), "description", "max_length"),
    (
        "interest outside 1-5",
        lambda r, w: r.update_actor_mapping(w.partner, 6, 3),
        "interest",
        "range_1_5",
    ),
    (
        "unknown stance",
        lambda r, w: r.update_actor_mapping(w.partner, 3, 3, stance="grumpy"),
        "stance",
        "vocabulary",
    ),
    (
        "empty suspension reason",
        lambda r, w: r.suspend_partner(w.partner, "  "),
        "reason",
        "required",
    ),
    (
        "empty withdrawal reason",
        lambda r, w: r.withdraw_risk_assessment(w.draft, ""),
        "reason",
        "required",
    ),
    (
        "empty correction reason",
        lambda r, w: r.correct_engagement(w.engagement, " ", title="Better title"),
        "reason",
        "required",
    ),
    (
        "unknown mitigation status",
        lambda r, w: r.add_mitigation(w.draft, "Neutral venue", "Civil Affairs", status="meh"),
        "status",
        "vocabulary",
    ),
    (
        "bad due date",
        lambda r, w: r.add_follow_up(w.engagement, "Call back", "Civil Affairs", due="soon"),
        "due",
        "date",
    ),
    (
        "unknown decision scope",
        lambda r, w: r.propose_decision(w.partner, "friendship", [w.finalised]),
        "scope",
        "vocabulary",
    ),
    (
        "follow-up completed in the future",
        lambda r, w: r.complete_follow_up(w.engagement, uuid4(), on=TOMORROW),
        "valid_time",
        "not_in_future",
    ),
]
# A role outside the vocabulary needs the world's partner id, so that case is built here.
VALIDATION_CASES[13] = (
    "unknown partner role",
    lambda r, w: r.record_engagement("roundtable", "R", "2020", partners=[(w.partner, "boss")]),
    "partners[0].role",
    "vocabulary",
)


@pytest.mark.parametrize(
    ("command", "field", "rule"),
    [pytest.param(c, f, r, id=name) for name, c, f, r in VALIDATION_CASES],
)
def test_invalid_input_is_refused_naming_field_and_rule_and_writes_nothing(
    registry: PartnershipRegistry, world: World, command: Command, field: str, rule: str
) -> None:
    with acting_as(RECORDER_ACTOR):
        assert_rejected(
            registry, ValidationError, lambda: command(registry, world), field=field, rule=rule
        )


RULE_CASES: list[tuple[str, Command, str, str | None]] = [
    (
        "decision citing another partner's assessment",
        lambda r, w: r.propose_decision(w.partner, "engagement", [w.other_partners_assessment]),
        "assessment_of_other_partner",
        "relied_on[0]",
    ),
    (
        "decision citing a draft assessment",
        lambda r, w: r.propose_decision(w.partner, "engagement", [w.draft]),
        "assessment_not_finalised",
        "relied_on[0]",
    ),
    (
        "risk added to a finalised assessment",
        lambda r, w: r.add_risk(w.finalised, "perceived partiality", 2, 2, "late"),
        "risks_only_in_draft",
        "status",
    ),
    (
        "empty draft submitted",
        lambda r, w: r.submit_risk_assessment(w.draft),
        "risks_required",
        "risks",
    ),
    (
        "reinstating a partner that is not suspended",
        lambda r, w: r.reinstate_partner(w.partner, "all good"),
        "status",
        None,
    ),
    (
        "correction that changes nothing",
        lambda r, w: r.correct_engagement(w.engagement, "typo", title="Protection roundtable"),
        "no_change",
        "changes",
    ),
]


@pytest.mark.parametrize(
    ("command", "rule", "field"),
    [pytest.param(c, rule, f, id=name) for name, c, rule, f in RULE_CASES],
)
def test_rule_violations_name_the_rule_and_write_nothing(
    registry: PartnershipRegistry, world: World, command: Command, rule: str, field: str | None
) -> None:
    with acting_as(RECORDER_ACTOR):
        assert_rejected(
            registry, RuleViolation, lambda: command(registry, world), rule=rule, field=field
        )


NOT_FOUND_CASES: list[tuple[str, Command]] = [
    ("partner", lambda r, w: r.suspend_partner(uuid4(), "reprisals")),
    ("engagement", lambda r, w: r.add_follow_up(uuid4(), "Call", "Civil Affairs")),
    ("assessment", lambda r, w: r.add_risk(uuid4(), "perceived partiality", 2, 2, "x")),
    ("decision", lambda r, w: r.record_dissent(uuid4(), "I disagree")),
    (
        "partner of an engagement",
        lambda r, w: r.record_engagement("roundtable", "R", "2020", partners=[(uuid4(), "member")]),
    ),
    ("cited assessment", lambda r, w: r.propose_decision(w.partner, "engagement", [uuid4()])),
    (
        "engagement id used as a partner id",
        lambda r, w: r.suspend_partner(w.engagement, "wrong kind"),
    ),
    ("contact person", lambda r, w: r.remove_contact_person(w.partner, uuid4())),
    ("follow-up", lambda r, w: r.complete_follow_up(w.engagement, uuid4())),
]


@pytest.mark.parametrize("command", [pytest.param(c, id=name) for name, c in NOT_FOUND_CASES])
def test_unknown_ids_are_not_found_and_write_nothing(
    registry: PartnershipRegistry, world: World, command: Command
) -> None:
    with acting_as(RECORDER_ACTOR):
        assert_rejected(registry, NotFound, lambda: command(registry, world))


def test_empty_rationale_for_a_decision_is_refused(
    registry: PartnershipRegistry, world: World
) -> None:
    with acting_as(RECORDER_ACTOR):
        decision = registry.propose_decision(world.partner, "engagement", [world.finalised]).id
    with acting_as(HRO):
        assert_rejected(
            registry,
            ValidationError,
            lambda: registry.decide(decision, "declined", "   "),
            field="rationale",
            rule="required",
        )


def test_a_partner_user_cannot_act_without_a_valid_role() -> None:
    with pytest.raises(ValidationError) as caught:
        Actor("someone", "superuser")
    assert caught.value.field == "actor.role"
