"""CitedAssessment: an assessment a decision relied on, exactly as it stood when cited."""

from __future__ import annotations

import strawberry

from api.graphql.types.risk_assessment import RiskAssessment
from api.views import CitedAssessment as CitedView


@strawberry.type
class CitedAssessment:
    assessment: RiskAssessment = strawberry.field(description="as it stood at the cited version")
    cited_version: int
    current_version: int
    current_status: str
    changed_since: bool = strawberry.field(description="recorded events since it was cited")

    @classmethod
    def from_view(cls, view: CitedView) -> CitedAssessment:
        return cls(
            assessment=RiskAssessment.from_view(view.assessment),
            cited_version=view.cited_version,
            current_version=view.current_version,
            current_status=view.current_status,
            changed_since=view.changed_since,
        )
