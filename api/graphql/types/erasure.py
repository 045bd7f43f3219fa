"""Erasure: the auditable record that a person's personal data was erased."""

from __future__ import annotations

import strawberry

from api.graphql import ids
from domain.application import Recorded


@strawberry.type
class Erasure:
    person_id: strawberry.ID
    erasure_record_id: str
    position: int

    @classmethod
    def from_recorded(cls, person_id: str, recorded: Recorded) -> Erasure:
        return cls(
            person_id=strawberry.ID(ids.encode(ids.CONTACT_PERSON, person_id)),
            erasure_record_id=str(recorded.id),
            position=recorded.position,
        )
