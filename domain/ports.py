"""What the domain needs from outside and does not implement itself (the security layer does)."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID


class PersonKeys(Protocol):
    """A person's own key, under which their personal data is sealed."""

    def destroy(self, person_id: UUID) -> None:
        """Destroy the person's key (crypto-shredding): every copy of their data goes unreadable."""
