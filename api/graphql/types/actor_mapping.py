"""ActorMapping: a mission's reading of a partner (interest, influence, stance, relations)."""

from __future__ import annotations

import strawberry

from api.graphql.types.relationship import Relationship
from api.views import ActorMappingView


@strawberry.type
class ActorMapping:
    interest: int
    influence: int
    stance: str
    relationships: list[Relationship]

    @classmethod
    def from_view(cls, view: ActorMappingView) -> ActorMapping:
        return cls(
            interest=view.interest,
            influence=view.influence,
            stance=view.stance,
            relationships=[Relationship.from_view(r) for r in view.relationships],
        )
