"""The views answer the GraphQL contract's questions: filters, keyset pages, timeline, register."""

from __future__ import annotations

from datetime import date

from domain.actors import HUMAN_RIGHTS_OFFICER, Actor, acting_as
from domain.application import PartnershipRegistry
from projections.follower import project_pending
from projections.projection import RegistryProjection
from projections.queries.partners import PartnerFilter, list_partners
from projections.queries.records import (
    RiskRegisterFilter,
    history,
    risk_register,
)
from projections.queries.timeline import TimelineFilter, timeline, timelines_for_partners
from projections.store import ViewStore


def test_partners_filter_by_kind_country_focus_status_and_text(
    registry: PartnershipRegistry, store: ViewStore, projection: RegistryProjection
) -> None:
    women = registry.register_partner(
        "Femmes pour la Paix", "women's group", "local", acronym="FPP",
        countries=["CF"], focus_areas=["WPS"],
    )  # fmt: skip
    registry.register_partner("Radio Ndeke", "media", "national", countries=["CF"])
    registry.register_partner("Youth Voices", "youth group", "local", countries=["ML"])
    registry.suspend_partner(women.id, "reprisal risk")
    project_pending(registry, projection)

    def names(f: PartnerFilter) -> list[str]:
        return [r.name for r in list_partners(store, f, scope=None).rows]

    assert names(PartnerFilter(kinds=("women's group",))) == ["Femmes pour la Paix"]
    assert names(PartnerFilter(countries=("CF",))) == ["Femmes pour la Paix", "Radio Ndeke"]
    assert names(PartnerFilter(focus_areas=("WPS",))) == ["Femmes pour la Paix"]
    assert names(PartnerFilter(statuses=("suspended",))) == ["Femmes pour la Paix"]
    assert names(PartnerFilter(search="fpp")) == ["Femmes pour la Paix"]
    assert names(PartnerFilter(search="VOICES")) == ["Youth Voices"]
    assert names(PartnerFilter(search="100%")) == []
    assert names(PartnerFilter(scopes=("national",))) == ["Radio Ndeke"]


def test_keyset_pages_cover_every_partner_once_even_with_equal_names(
    registry: PartnershipRegistry, store: ViewStore, projection: RegistryProjection
) -> None:
    for name in ["Delta", "alpha", "Charlie", "Bravo", "Bravo", "Echo"]:
        registry.register_partner(name, "network", "regional")
    project_pending(registry, projection)

    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = list_partners(store, first=2, after=after, scope=None)
        seen += [r.name for r in page.rows]
        pages += 1
        if not page.has_next:
            break
        after = page.rows[-1].key
    assert seen == ["alpha", "Bravo", "Bravo", "Charlie", "Delta", "Echo"]
    assert pages == 3
    assert list_partners(store, first=6, scope=None).has_next is False
    assert len(list_partners(store, first=1000, scope=None).rows) == 6


def test_a_year_precision_engagement_is_inside_that_year_and_shown_as_the_year(
    registry: PartnershipRegistry, store: ViewStore, projection: RegistryProjection
) -> None:
    women = registry.register_partner("Women Mediators", "women's group", "national", on="2015")
    media = registry.register_partner("Radio Ndeke", "media", "national", on="2015")
    registry.record_engagement(
        "roundtable", "Expert roundtable", "2020", partners=[(women.id, "participant")]
    )
    registry.record_engagement(
        "consultation", "March consultation", "2021-03", partners=[(media.id, "convener")]
    )
    project_pending(registry, projection)

    def titles(f: TimelineFilter) -> list[str]:
        return [e.title for e in timeline(store, f, scope=None).entries]

    in_2020 = TimelineFilter(start=date(2020, 1, 1), end=date(2020, 12, 31), kinds=("engagement",))
    assert titles(in_2020) == ["roundtable: Expert roundtable"]
    late_2020 = TimelineFilter(start=date(2020, 12, 31), end=date(2021, 1, 5))
    assert titles(late_2020) == ["roundtable: Expert roundtable"]
    assert titles(TimelineFilter(start=date(2021, 3, 31), end=date(2021, 3, 31))) == [
        "consultation: March consultation"
    ]
    assert titles(TimelineFilter(start=date(2021, 4, 1))) == []

    entry = timeline(store, in_2020, scope=None).entries[0]
    assert str(entry.valid_time) == "2020"
    assert entry.valid_end == date(2020, 12, 31)
    assert entry.recorded_late is True
    assert entry.partner_kinds == ("women's group",)
    by_kind = TimelineFilter(kinds=("engagement",), partner_kinds=("media",))
    assert titles(by_kind) == ["consultation: March consultation"]
    ordered = [str(e.valid_time) for e in timeline(store, scope=None).entries]
    assert ordered == ["2015", "2015", "2020", "2021-03"]


def test_timeline_pages_and_batch_loading_respect_the_callers_scope(
    registry: PartnershipRegistry, store: ViewStore, projection: RegistryProjection
) -> None:
    mine = registry.register_partner("Mine", "network", "local", on="2019-01-01")
    other = registry.register_partner("Other", "network", "local", on="2019-01-02")
    registry.record_engagement(
        "joint activity", "Both", "2019-02-01",
        partners=[(mine.id, "convener"), (other.id, "participant")],
    )  # fmt: skip
    project_pending(registry, projection)

    scope = {str(mine.id)}
    entries = timeline(store, scope=scope).entries
    assert [e.title for e in entries] == ["Mine registered", "joint activity: Both"]
    assert entries[1].partner_ids == (str(mine.id),)

    first = timeline(store, first=1, scope=None)
    second = timeline(store, first=1, after=first.entries[0].key, scope=None)
    assert first.has_next
    assert [e.title for e in second.entries] == ["Other registered"]

    loaded = timelines_for_partners(store, [mine.id, other.id], scope=None)
    assert [len(loaded[str(mine.id)]), len(loaded[str(other.id)])] == [2, 2]
    assert history(store, other.id, scope=scope) == []
    assert [h.event_type for h in history(store, mine.id, scope=None)] == ["Registered"]


def test_risk_register_shows_current_rating_open_mitigations_and_overdue_reviews(
    registry: PartnershipRegistry, store: ViewStore, projection: RegistryProjection
) -> None:
    partner = registry.register_partner("Watch", "human rights defenders' group", "local")
    assessment = registry.open_risk_assessment(partner.id, title="2024 review")
    registry.add_risk(
        assessment.id, "reprisal or intimidation risk to the partner", 4, 5, "threats"
    )
    registry.add_mitigation(assessment.id, "low-profile meetings", "Human Rights", due="2030-01-01")
    registry.submit_risk_assessment(assessment.id)
    registry.finalise_risk_assessment(assessment.id)
    decision = registry.propose_decision(partner.id, "engagement", [assessment.id])
    with acting_as(Actor("hro-2", HUMAN_RIGHTS_OFFICER)):  # two-person rule for high ratings
        registry.decide(
            decision.id, "approved with conditions", "needed for protection",
            conditions=["meet off-site"],
            review_due=date.today().replace(year=date.today().year + 1),
        )  # fmt: skip
    project_pending(registry, projection)

    rows = risk_register(store, today=date.today(), scope=None)
    assert [(r.name, r.current_rating) for r in rows] == [("Watch", "high")]
    assert [m["measure"] for m in rows[0].open_mitigations] == ["low-profile meetings"]
    assert rows[0].overdue_decisions == ()
    later = date.today().replace(year=date.today().year + 2)
    overdue = risk_register(store, RiskRegisterFilter(only_overdue=True), today=later, scope=None)
    assert [r.overdue_decisions[0]["decision_id"] for r in overdue] == [str(decision.id)]
    assert risk_register(store, today=date.today(), scope=set()) == []
