"""Risk: one risk of working with a partner; description and sources only where allowed."""

from __future__ import annotations

import strawberry

from api.graphql import ids
from api.views import RiskView


@strawberry.type
class Risk:
    id: strawberry.ID
    category: str
    likelihood: int
    impact: int
    score: int
    rating: str
    description: str | None
    confidential_sources: str | None

    @classmethod
    def from_view(cls, view: RiskView) -> Risk:
        return cls(
            id=strawberry.ID(ids.encode(ids.RISK, view.risk_id)),
            category=view.category,
            likelihood=view.likelihood,
            impact=view.impact,
            score=view.score,
            rating=view.rating,
            description=view.description,
            confidential_sources=view.confidential_sources,
        )
