"""Me: the caller's identity, role and (for partners) organisation."""

from __future__ import annotations

import strawberry

from api.graphql import ids
from domain.actors import Actor


@strawberry.type
class Me:
    subject: str
    role: str
    organisation_id: strawberry.ID | None

    @classmethod
    def from_actor(cls, actor: Actor) -> Me:
        org = actor.organisation_id
        return cls(
            subject=actor.subject_id,
            role=actor.role,
            organisation_id=None if org is None else strawberry.ID(ids.encode(ids.PARTNER, org)),
        )
