"""PartnerOrganisation: a civil-society partner's profile, actor mapping, contacts and lifecycle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.errors import NotFound, RuleViolation, ValidationError
from domain.personal_data import PersonalData
from domain.recorded import RegistryAggregate
from domain.valid_time import ValidTime
from domain.validation import (
    LIST_LIMIT,
    NAME_LIMIT,
    SHORT_TEXT_LIMIT,
    check_country,
    check_reason,
    check_scale,
    check_text,
    check_texts,
)
from domain.vocabulary import (
    ACTIVE,
    CLOSED,
    FOCUS_AREAS,
    PARTNER_KINDS,
    REGISTERED,
    REINSTATED,
    RELATIONSHIP_KINDS,
    SCOPES,
    STANCES,
    SUSPENDED,
    check_word,
    check_words,
)


@dataclass(frozen=True)
class Profile:
    """What the registry knows about who a partner is, where and on what it works."""

    name: str
    kind: str
    scope: str
    acronym: str = ""
    former_names: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    mission_context: str = ""
    focus_areas: tuple[str, ...] = ()
    external_id: str = ""

    def checked(self) -> Profile:
        """A copy with every field validated and normalised, or a ValidationError."""
        return Profile(
            name=check_text("name", self.name, NAME_LIMIT, required=True),
            kind=check_word("kind", self.kind, PARTNER_KINDS),
            scope=check_word("scope", self.scope, SCOPES),
            acronym=check_text("acronym", self.acronym, NAME_LIMIT),
            former_names=check_texts("former_names", self.former_names, NAME_LIMIT),
            countries=tuple(
                dict.fromkeys(
                    check_country(f"countries[{i}]", c) for i, c in enumerate(self.countries)
                )
            ),
            locations=check_texts("locations", self.locations, NAME_LIMIT),
            mission_context=check_text("mission_context", self.mission_context, NAME_LIMIT),
            focus_areas=check_words("focus_areas", self.focus_areas, FOCUS_AREAS),
            external_id=check_text("external_id", self.external_id, NAME_LIMIT),
        )


@dataclass(frozen=True)
class Relationship:
    """How a partner stands towards the host state, a party to the conflict or another partner."""

    kind: str
    counterpart: str
    nature: str = ""
    partner_id: UUID | None = None

    def checked(self, index: int) -> Relationship:
        field = f"relationships[{index}]"
        return Relationship(
            kind=check_word(f"{field}.kind", self.kind, RELATIONSHIP_KINDS),
            counterpart=check_text(
                f"{field}.counterpart", self.counterpart, NAME_LIMIT, required=True
            ),
            nature=check_text(f"{field}.nature", self.nature, SHORT_TEXT_LIMIT),
            partner_id=self.partner_id,
        )


@dataclass(frozen=True)
class ActorMapping:
    """A mission's reading of a partner: interest and influence (1-5), stance, relationships."""

    interest: int
    influence: int
    stance: str = "unknown"
    relationships: tuple[Relationship, ...] = ()

    def checked(self) -> ActorMapping:
        if len(self.relationships) > LIST_LIMIT:
            raise ValidationError("relationships", "max_items", f"at most {LIST_LIMIT} items")
        return ActorMapping(
            interest=check_scale("interest", self.interest),
            influence=check_scale("influence", self.influence),
            stance=check_word("stance", self.stance, STANCES),
            relationships=tuple(r.checked(i) for i, r in enumerate(self.relationships)),
        )


def check_contact(contact: PersonalData) -> PersonalData:
    """A contact person's details, validated (the person id is the caller's)."""
    return PersonalData(
        person_id=contact.person_id,
        name=check_text("contact.name", contact.name, NAME_LIMIT, required=True),
        role=check_text("contact.role", contact.role, NAME_LIMIT),
        email=check_text("contact.email", contact.email, NAME_LIMIT),
        phone=check_text("contact.phone", contact.phone, NAME_LIMIT),
    )


class PartnerOrganisation(RegistryAggregate):
    """A partner organisation; its id is the partner id every other record cites."""

    # State is set by the events' apply methods; annotated for type checkers only, since
    # the library would turn class-level annotations into __init__ parameters.
    if TYPE_CHECKING:
        profile: Profile
        mapping: ActorMapping | None
        contacts: dict[str, PersonalData]
        status: str
        status_reason: str

    class Registered(RegistryAggregate.Created):
        profile: Profile

        def apply(self, aggregate: Any) -> None:
            aggregate.profile = self.profile
            aggregate.mapping = None
            aggregate.contacts = {}
            aggregate.status = REGISTERED
            aggregate.status_reason = ""

    class ProfileUpdated(RegistryAggregate.Event):
        profile: Profile

        def apply(self, aggregate: Any) -> None:
            aggregate.profile = self.profile

    class ActorMappingUpdated(RegistryAggregate.Event):
        mapping: ActorMapping

        def apply(self, aggregate: Any) -> None:
            aggregate.mapping = self.mapping

    class ContactPersonAdded(RegistryAggregate.Event):
        contact: PersonalData

        def apply(self, aggregate: Any) -> None:
            aggregate.contacts[str(self.contact.person_id)] = self.contact

    class ContactPersonRemoved(RegistryAggregate.Event):
        person_id: UUID

        def apply(self, aggregate: Any) -> None:
            aggregate.contacts.pop(str(self.person_id), None)

    class Activated(RegistryAggregate.Event):
        def apply(self, aggregate: Any) -> None:
            aggregate.status = ACTIVE
            aggregate.status_reason = self.reason

    class Suspended(RegistryAggregate.Event):
        def apply(self, aggregate: Any) -> None:
            aggregate.status = SUSPENDED
            aggregate.status_reason = self.reason

    class Reinstated(RegistryAggregate.Event):
        def apply(self, aggregate: Any) -> None:
            aggregate.status = REINSTATED
            aggregate.status_reason = self.reason

    class Closed(RegistryAggregate.Event):
        def apply(self, aggregate: Any) -> None:
            aggregate.status = CLOSED
            aggregate.status_reason = self.reason

    @classmethod
    def register(
        cls,
        profile: Profile,
        valid_time: ValidTime,
        record_id: UUID | None = None,
    ) -> PartnerOrganisation:
        return cls._create(
            cls.Registered, id=record_id, profile=profile.checked(), valid_time=valid_time
        )

    @property
    def partner_id(self) -> UUID:
        return self.id

    @property
    def is_suspended(self) -> bool:
        return self.status == SUSPENDED

    def check_open(self) -> None:
        if self.status == CLOSED:
            raise RuleViolation("partner_closed", f"partner {self.id} is closed", "partner_id")

    def update_profile(self, profile: Profile, valid_time: ValidTime) -> None:
        self.check_open()
        checked = profile.checked()
        if checked.name != self.profile.name and self.profile.name not in checked.former_names:
            # A renamed partner keeps its old name findable.
            checked = Profile(
                **{**vars(checked), "former_names": (*checked.former_names, self.profile.name)}
            )
        self.trigger_event(self.ProfileUpdated, profile=checked, valid_time=valid_time)

    def update_actor_mapping(self, mapping: ActorMapping, valid_time: ValidTime) -> None:
        self.check_open()
        self.trigger_event(
            self.ActorMappingUpdated, mapping=mapping.checked(), valid_time=valid_time
        )

    def add_contact_person(self, contact: PersonalData, valid_time: ValidTime) -> None:
        self.check_open()
        checked = check_contact(contact)
        if str(checked.person_id) in self.contacts:
            raise RuleViolation(
                "contact_exists", f"person {checked.person_id} is already a contact"
            )
        self.trigger_event(self.ContactPersonAdded, contact=checked, valid_time=valid_time)

    def remove_contact_person(self, person_id: UUID, valid_time: ValidTime) -> None:
        if str(person_id) not in self.contacts:
            raise NotFound("contact person", person_id)
        self.trigger_event(self.ContactPersonRemoved, person_id=person_id, valid_time=valid_time)

    def activate(self, valid_time: ValidTime) -> None:
        if self.status != REGISTERED:
            raise RuleViolation(
                "status", f"only a registered partner can be activated, not {self.status}"
            )
        self.trigger_event(self.Activated, valid_time=valid_time)

    def suspend(self, reason: str, valid_time: ValidTime) -> None:
        if self.status in (SUSPENDED, CLOSED):
            raise RuleViolation("status", f"a {self.status} partner cannot be suspended")
        self.trigger_event(self.Suspended, reason=check_reason(reason), valid_time=valid_time)

    def reinstate(self, reason: str, valid_time: ValidTime) -> None:
        if self.status != SUSPENDED:
            raise RuleViolation(
                "status", f"only a suspended partner can be reinstated, not {self.status}"
            )
        self.trigger_event(self.Reinstated, reason=check_reason(reason), valid_time=valid_time)

    def close(self, reason: str, valid_time: ValidTime) -> None:
        self.check_open()
        self.trigger_event(self.Closed, reason=check_reason(reason), valid_time=valid_time)
