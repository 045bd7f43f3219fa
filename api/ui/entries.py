"""Timeline entries as the pages show them: category, colour, links, and their chart items.

Entries arrive already scoped and redacted by ``RegistryReader``; this module only decides how
they look and where they link.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from api.ui.layout import RATINGS, ChartItem, Lane
from projections.queries.timeline import TimelineEntry

ENGAGEMENTS = "engagements"
ASSESSMENTS = "assessments"
DECISIONS = "decisions"
REVIEWS = "reviews"
STATUS = "status"

CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    ENGAGEMENTS: ("Engagements", ("engagement", "engagement_corrected")),
    ASSESSMENTS: (
        "Risk assessments",
        ("assessment_finalised", "assessment_superseded", "assessment_withdrawn"),
    ),
    DECISIONS: (
        "Decisions",
        ("decision_proposed", "decision", "decision_communicated"),
    ),
    REVIEWS: ("Reviews", ("decision_reviewed",)),
    STATUS: (
        "Partner status",
        (
            "partner_registered",
            "partner_activated",
            "partner_suspended",
            "partner_reinstated",
            "partner_closed",
        ),
    ),
}
"""Lanes of a partner's chart and the kind filter of the portfolio, in display order."""

KIND_LABELS = {
    "engagement": "engagement",
    "engagement_corrected": "engagement corrected",
    "assessment_finalised": "risk assessment finalised",
    "assessment_superseded": "risk assessment superseded",
    "assessment_withdrawn": "risk assessment withdrawn",
    "decision_proposed": "decision proposed",
    "decision": "decision taken",
    "decision_communicated": "decision communicated",
    "decision_reviewed": "decision reviewed",
    "partner_registered": "partner registered",
    "partner_activated": "partner activated",
    "partner_suspended": "partner suspended",
    "partner_reinstated": "partner reinstated",
    "partner_closed": "partner closed",
}

PRECISION_LABELS = {"day": "day", "month": "month (whole month)", "year": "year (whole year)"}


def category_of(kind: str) -> str:
    for key, (_, kinds) in CATEGORIES.items():
        if kind in kinds:
            return key
    return STATUS if kind.startswith("partner_") else ENGAGEMENTS


def kinds_of(categories: Sequence[str]) -> tuple[str, ...]:
    """The entry kinds a set of categories covers (unknown categories are ignored)."""
    return tuple(k for c in categories if c in CATEGORIES for k in CATEGORIES[c][1])


def history_href(record_id: str, version: int) -> str:
    return f"/ui/history/{quote(record_id, safe='')}#v{version}"


def proof_href(record_id: str, version: int) -> str:
    """The page of the event's inclusion proof (record id ':' version, as entry ids are)."""
    return f"/ui/proofs/{quote(f'{record_id}:{version}', safe='')}"


def partner_href(partner_id: str) -> str:
    return f"/ui/partners/{quote(partner_id, safe='')}"


@dataclass(frozen=True)
class EntryRow:
    """One entry with what the page shows beside it (a table row and a chart mark)."""

    entry: TimelineEntry
    category: str
    rating: str | None
    partners: tuple[tuple[str, str], ...]
    may_read_history: bool

    @property
    def anchor(self) -> str:
        return "e-" + self.entry.entry_id.replace(":", "-")

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.entry.kind, self.entry.kind.replace("_", " "))

    @property
    def category_label(self) -> str:
        return CATEGORIES[self.category][0]

    @property
    def tone(self) -> str:
        if self.category == ASSESSMENTS:
            return f"tone-{self.rating}" if self.rating in RATINGS else "tone-unrated"
        return f"tone-{self.category}"

    @property
    def history_href(self) -> str:
        return history_href(self.entry.record_id, self.entry.version)

    @property
    def proof_href(self) -> str:
        return proof_href(self.entry.record_id, self.entry.version)

    @property
    def is_span(self) -> bool:
        return self.entry.valid_time.precision != "day" or (
            self.entry.valid_end > self.entry.valid_time.start
        )

    @property
    def recorded_on(self) -> str:
        return self.entry.recorded_at[:10]

    @property
    def description(self) -> str:
        """What a screen reader hears for the chart mark (and the hover title)."""
        when = str(self.entry.valid_time)
        if self.is_span:
            when += f" (span {self.entry.valid_time.start} to {self.entry.valid_end})"
        parts = [f"{self.kind_label}: {self.entry.title}", when]
        if self.rating and self.category == ASSESSMENTS:
            parts.append(f"rating {self.rating}")
        if self.entry.recorded_late:
            parts.append(f"recorded later, on {self.recorded_on}")
        return "; ".join(parts)

    def chart_item(self, lane: str) -> ChartItem:
        """Chart marks open the record's history, or (for roles without it) the table row."""
        return ChartItem(
            entry_id=self.entry.entry_id,
            lane=lane,
            title=self.description,
            valid_time=self.entry.valid_time,
            valid_end=self.entry.valid_end,
            recorded_late=self.entry.recorded_late,
            tone=self.tone,
            href=self.history_href if self.may_read_history else f"#{self.anchor}",
            recorded_on=self.recorded_on,
        )


def entry_rows(
    entries: Sequence[TimelineEntry],
    ratings: Mapping[str, str | None],
    partner_names: Mapping[str, str],
    *,
    may_read_history: bool,
) -> list[EntryRow]:
    """Rows for entries; ``ratings`` maps assessment ids to their rating."""
    return [
        EntryRow(
            entry=e,
            category=category_of(e.kind),
            rating=ratings.get(e.record_id),
            partners=tuple((p, partner_names.get(p, p)) for p in e.partner_ids),
            may_read_history=may_read_history,
        )
        for e in entries
    ]


def category_lanes() -> list[Lane]:
    return [Lane(key, label) for key, (label, _) in CATEGORIES.items()]
