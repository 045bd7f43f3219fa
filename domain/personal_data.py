"""Personal data: details naming a living person, which storage seals under that person's key.

The domain only marks such data with this type; ``security`` finds it when events are stored,
encrypts it under a key of the person's own, and shows it as erased once that key is destroyed.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

ERASED_TEXT = "[erased]"


@dataclass(frozen=True)
class PersonalData:
    """A person's name and contact details; ``erased`` once their key has been destroyed."""

    person_id: UUID
    name: str
    role: str = ""
    email: str = ""
    phone: str = ""
    erased: bool = False

    @classmethod
    def erased_for(cls, person_id: UUID) -> PersonalData:
        """What every read shows after the person's data has been erased."""
        return cls(person_id=person_id, name=ERASED_TEXT, erased=True)
