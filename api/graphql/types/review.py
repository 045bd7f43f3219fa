"""Review: a periodic review of a decision, its outcome and who reviewed it."""

from __future__ import annotations

from datetime import date

import strawberry

from api.graphql.types.valid_time import ValidTime
from api.views import ReviewView


@strawberry.type
class Review:
    outcome: str
    reviewed_on: ValidTime
    reviewer: str
    note: str | None
    next_review_due: date | None

    @classmethod
    def from_view(cls, view: ReviewView) -> Review:
        return cls(
            outcome=view.outcome,
            reviewed_on=ValidTime.from_domain(view.reviewed_on),
            reviewer=view.reviewer,
            note=view.note,
            next_review_due=view.next_review_due,
        )
