"""Engagements: several partners with roles, suspended partners, non-attribution, corrections."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

from domain.actors import acting_as
from domain.application import PartnershipRegistry
from domain.engagement import EngagementPartner, Participants, Statement
from domain.errors import RuleViolation, ValidationError
from domain.personal_data import PersonalData
from domain.valid_time import ValidTime
from tests.domain.conftest import HRO, RECORDER_ACTOR, World, assert_rejected, events_of, register


def test_an_engagement_records_several_partners_with_roles_and_month_precision(
    registry: PartnershipRegistry, world: World
) -> None:
    with acting_as(RECORDER_ACTOR):
        recorded = registry.record_engagement(
            "advisory mechanism established",
            "Dialogue platform core group formed",
            "2016-09",
            partners=[
                (world.partner, "co-facilitator"),
                (world.other_partner, "member"),
                (world.other_partner, "participant"),
            ],
            un_entities=["Department of Political Affairs (DPA)"],
            mission_components=["Civil Affairs", "Gender"],
            participants=Participants(total=23, women=17, youth=5),
            location="New York",
            confidentiality="restricted",
        )
    found = registry.get_engagement(recorded.id)
    assert found.details.start == ValidTime(date(2016, 9, 1), "month")
    assert str(found.details.start) == "2016-09"
    assert found.partner_ids == (world.partner, world.other_partner)
    assert EngagementPartner(world.other_partner, "participant") in found.details.partners
    assert found.details.participants == Participants(23, 17, 5)


def test_every_engagement_event_names_its_partners(
    registry: PartnershipRegistry, world: World
) -> None:
    with acting_as(RECORDER_ACTOR):
        registry.add_follow_up(
            world.engagement, "Share patrol timing", "Civil Affairs", due="2030-03-28"
        )
        registry.correct_engagement(
            world.engagement,
            "partner missing",
            partners=[(world.partner, "convener"), (world.other_partner, "participant")],
        )
    events = events_of(registry, world.engagement)
    assert all(world.partner in e.partner_ids for e in events)
    assert set(events[-1].partner_ids) == {world.partner, world.other_partner}


def test_an_engagement_with_a_suspended_partner_is_refused(
    registry: PartnershipRegistry, world: World
) -> None:
    with acting_as(HRO):
        registry.suspend_partner(world.partner, "credible reprisal threats")
    with acting_as(RECORDER_ACTOR):
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.record_engagement(
                "consultation", "C", "2021", partners=[(world.partner, "participant")]
            ),
            rule="suspended_partner",
            field="partners",
        )
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.record_engagement(
                "consultation",
                "C",
                "2021",
                partners=[(world.partner, "participant")],
                override_reason="I think it is fine",
            ),
            rule="override_requires_hro",
        )


def test_a_human_rights_officer_may_override_a_suspension_with_a_reason_kept_on_the_event(
    registry: PartnershipRegistry, world: World
) -> None:
    with acting_as(HRO):
        registry.suspend_partner(world.partner, "credible reprisal threats")
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.record_engagement(
                "consultation",
                "C",
                "2021",
                partners=[(world.partner, "participant")],
                override_reason="  ",
            ),
            rule="suspended_partner",
        )
        recorded = registry.record_engagement(
            "consultation",
            "Protection consultation",
            "2021",
            partners=[(world.partner, "participant")],
            override_reason="Protection of the members themselves is at stake",
        )
    (event,) = events_of(registry, recorded.id)
    assert event.reason == "Protection of the members themselves is at stake"
    assert list(event.overridden_suspensions) == [world.partner]
    assert (event.actor_id, event.actor_role) == ("hro-1", "human_rights_officer")


def test_a_correction_adding_a_suspended_partner_needs_the_override_too(
    registry: PartnershipRegistry, world: World
) -> None:
    with acting_as(HRO):
        registry.suspend_partner(world.other_partner, "under review")
    with acting_as(RECORDER_ACTOR):
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.correct_engagement(
                world.engagement,
                "add partner",
                partners=[(world.partner, "convener"), (world.other_partner, "member")],
            ),
            rule="suspended_partner",
        )


def test_an_engagement_with_a_closed_partner_is_refused(
    registry: PartnershipRegistry, world: World
) -> None:
    with acting_as(HRO):
        registry.close_partner(world.other_partner, "dissolved")
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.record_engagement(
                "consultation",
                "C",
                "2021",
                partners=[(world.other_partner, "participant")],
                override_reason="x",
            ),
            rule="partner_closed",
        )


def test_non_attribution_engagements_record_statements_but_never_who_said_them(
    registry: PartnershipRegistry, world: World
) -> None:
    speaker = PersonalData(uuid4(), "Amina Example")
    with acting_as(RECORDER_ACTOR):
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.record_engagement(
                "roundtable",
                "Closed roundtable",
                "2019-03",
                partners=[(world.partner, "participant")],
                non_attribution=True,
                statements=[Statement("Patrols come too late", speaker=speaker)],
            ),
            rule="non_attribution",
            field="statements[0]",
        )
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.record_engagement(
                "roundtable",
                "Closed roundtable",
                "2019-03",
                non_attribution=True,
                statements=[Statement("Patrols come too late", speaker_partner_id=world.partner)],
            ),
            rule="non_attribution",
        )
        recorded = registry.record_engagement(
            "roundtable",
            "Closed roundtable",
            "2019-03",
            non_attribution=True,
            statements=[Statement("Patrols come too late")],
        )
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.correct_engagement(recorded.id, "opening up", non_attribution=False),
            rule="non_attribution",
        )
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.correct_engagement(
                recorded.id, "who said it", statements=[Statement("Patrols come too late", speaker)]
            ),
            rule="non_attribution",
        )
    assert registry.get_engagement(recorded.id).details.statements == (
        Statement("Patrols come too late"),
    )


def test_attributed_statements_are_kept_when_non_attribution_is_off(
    registry: PartnershipRegistry, world: World
) -> None:
    speaker = PersonalData(uuid4(), "Amina Example")
    with acting_as(RECORDER_ACTOR):
        recorded = registry.record_engagement(
            "dialogue meeting",
            "Open meeting",
            "2019-03",
            statements=[Statement("We need patrols", speaker)],
        )
    assert registry.get_engagement(recorded.id).details.statements[0].speaker == speaker


def test_a_correction_is_a_new_event_with_its_reason_and_only_the_changed_fields(
    registry: PartnershipRegistry, world: World
) -> None:
    with acting_as(RECORDER_ACTOR):
        recorded = registry.correct_engagement(
            world.engagement, "date was misread", start="2021-03-15", title="Protection roundtable"
        )
    _, correction = events_of(registry, world.engagement)
    assert correction.reason == "date was misread"
    assert correction.changes == {"start": ValidTime(date(2021, 3, 15))}
    assert recorded.version == 2
    assert registry.get_engagement(world.engagement, version=1).details.start == ValidTime(
        date(2021, 3, 14)
    )
    assert registry.get_engagement(world.engagement).details.start == ValidTime(date(2021, 3, 15))
    with acting_as(RECORDER_ACTOR):
        assert_rejected(
            registry,
            ValidationError,
            lambda: registry.correct_engagement(world.engagement, "oops", colour="blue"),
            field="colour",
            rule="correctable",
        )
        assert_rejected(
            registry,
            ValidationError,
            lambda: registry.correct_engagement(world.engagement, "oops", end="2021-03-01"),
            field="end",
            rule="end_before_start",
        )


def test_follow_ups_are_added_and_completed_once(
    registry: PartnershipRegistry, world: World
) -> None:
    due = date.today() + timedelta(days=30)
    with acting_as(RECORDER_ACTOR):
        follow_up = registry.add_follow_up(
            world.engagement, "Share patrol timing", "Civil Affairs", due=due
        )
        assert follow_up.item_id is not None
        registry.complete_follow_up(world.engagement, follow_up.item_id, on="2021-03-20")
        assert_rejected(
            registry,
            RuleViolation,
            lambda: registry.complete_follow_up(world.engagement, follow_up.item_id),  # type: ignore[arg-type]
            rule="follow_up_done",
        )
    found = registry.get_engagement(world.engagement).follow_ups[str(follow_up.item_id)]
    assert (found.due, found.done, found.done_on) == (due, True, ValidTime(date(2021, 3, 20)))


def test_every_event_carries_actor_valid_time_and_a_recorded_time_set_by_the_registry(
    registry: PartnershipRegistry, world: World
) -> None:
    (event,) = events_of(registry, world.engagement)
    assert (event.actor_id, event.actor_role) == ("recorder-1", "recorder")
    assert event.valid_time == ValidTime(date(2021, 3, 14))
    assert event.timestamp.date() >= date.today() - timedelta(days=1)


def test_a_partner_is_registered_and_found_by_its_id(registry: PartnershipRegistry) -> None:
    partner = register(registry)
    assert registry.get_partner(partner).profile.name == "Juba Women's Peace Network"
