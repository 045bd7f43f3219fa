"""ContactPerson: a person at a partner (personal data: shown only to those who may see it)."""

from __future__ import annotations

import strawberry

from api.graphql import ids
from api.views import ContactView


@strawberry.type
class ContactPerson:
    id: strawberry.ID
    name: str
    role: str
    email: str
    phone: str
    erased: bool

    @classmethod
    def from_view(cls, view: ContactView) -> ContactPerson:
        return cls(
            id=strawberry.ID(ids.encode(ids.CONTACT_PERSON, view.person_id)),
            name=view.name,
            role=view.role,
            email=view.email,
            phone=view.phone,
            erased=view.erased,
        )
