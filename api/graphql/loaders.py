"""DataLoaders made per request: nested lists of many partners load in one batch query each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from api.views import (
    AssessmentDetails,
    AssessmentView,
    DecisionDetails,
    DecisionView,
    EngagementDetailsView,
    EngagementView,
    PartnerDetails,
    PartnerView,
    RegistryReader,
)
from projections.queries.timeline import TimelineEntry

T = TypeVar("T")
ByPartner = tuple[str, str | None]
"""(partner id, as-of instant or None for now)."""


def _by_partner(
    fetch: Callable[[Sequence[str], str | None], dict[str, list[T]]],
) -> Callable[[list[ByPartner]], Any]:
    async def load(keys: list[ByPartner]) -> list[list[T]]:
        found: dict[ByPartner, list[T]] = {}
        for as_of in dict.fromkeys(k[1] for k in keys):
            ids = [k[0] for k in keys if k[1] == as_of]
            for partner_id, items in fetch(ids, as_of).items():
                found[(partner_id, as_of)] = items
        return [found.get(k, []) for k in keys]

    return load


def _each(fetch: Callable[[Sequence[tuple[str, int]]], list[T]]) -> Callable[..., Any]:
    async def load(keys: list[tuple[str, int]]) -> list[T]:
        return fetch(keys)

    return load


class Loaders:
    """One set per request, so nothing is cached across callers."""

    def __init__(self, reader: RegistryReader) -> None:
        async def partners(ids: list[str]) -> list[PartnerView | None]:
            found = reader.partners(ids)
            return [found.get(i) for i in ids]

        self.partners = DataLoader[str, PartnerView | None](load_fn=partners)
        self.engagements = DataLoader[ByPartner, list[EngagementView]](
            load_fn=_by_partner(reader.engagements_for)
        )
        self.assessments = DataLoader[ByPartner, list[AssessmentView]](
            load_fn=_by_partner(reader.assessments_for)
        )
        self.decisions = DataLoader[ByPartner, list[DecisionView]](
            load_fn=_by_partner(reader.decisions_for)
        )
        self.timelines = DataLoader[ByPartner, list[TimelineEntry]](
            load_fn=_by_partner(reader.timelines_for)
        )
        self.partner_details = DataLoader[tuple[str, int], PartnerDetails](
            load_fn=_each(reader.partner_details)
        )
        self.engagement_details = DataLoader[tuple[str, int], EngagementDetailsView](
            load_fn=_each(reader.engagement_details)
        )
        self.assessment_details = DataLoader[tuple[str, int], AssessmentDetails](
            load_fn=_each(reader.assessment_details)
        )
        self.decision_details = DataLoader[tuple[str, int], DecisionDetails](
            load_fn=_each(reader.decision_details)
        )
