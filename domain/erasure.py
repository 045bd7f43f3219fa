"""PersonalDataErasure: the record that a person's data was erased, kept as an auditable event."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.actors import ADMIN, current_actor
from domain.errors import Forbidden
from domain.recorded import RegistryAggregate
from domain.validation import check_reason

ERASURE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:partnership-registry:personal-data-erasure")


def erasure_id(person_id: UUID) -> UUID:
    """The one erasure record a person can have: derived from their id, so it is found again."""
    return uuid5(ERASURE_NAMESPACE, str(person_id))


class PersonalDataErasure(RegistryAggregate):
    """One person's erasure: who asked it to be done, when, and why."""

    # State is set by the events' apply methods; annotated for type checkers only, since
    # the library would turn class-level annotations into __init__ parameters.
    if TYPE_CHECKING:
        person_id: UUID

    class PersonalDataErased(RegistryAggregate.Created):
        person_id: UUID

        def apply(self, aggregate: Any) -> None:
            aggregate.person_id = self.person_id

    @classmethod
    def erase(cls, person_id: UUID, reason: str) -> PersonalDataErasure:
        why = check_reason(reason)
        if current_actor().role != ADMIN:
            raise Forbidden("only an administrator may erase personal data")
        return cls._create(
            cls.PersonalDataErased, id=erasure_id(person_id), person_id=person_id, reason=why
        )
