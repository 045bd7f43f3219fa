"""Engagement: a meeting, consultation, visit or activity with partners.

Recorded once; corrected only by new events that carry a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.actors import HUMAN_RIGHTS_OFFICER, current_actor
from domain.errors import NotFound, RuleViolation, ValidationError
from domain.personal_data import PersonalData
from domain.recorded import RegistryAggregate
from domain.valid_time import ValidTime
from domain.validation import (
    LIST_LIMIT,
    LONG_TEXT_LIMIT,
    NAME_LIMIT,
    TITLE_LIMIT,
    check_count,
    check_reason,
    check_text,
    check_texts,
    valid_time,
)
from domain.vocabulary import (
    CONFIDENTIALITY_LEVELS,
    ENGAGEMENT_KINDS,
    MISSION_COMPONENTS,
    PARTNER_ROLES,
    check_word,
    check_words,
)


@dataclass(frozen=True)
class EngagementPartner:
    """A partner taking part in an engagement, in one role (a partner may hold several)."""

    partner_id: UUID
    role: str


@dataclass(frozen=True)
class Participants:
    """How many took part, disaggregated; women and youth are counted within the total."""

    total: int | None = None
    women: int | None = None
    youth: int | None = None

    def checked(self) -> Participants:
        total = check_count("participants.total", self.total)
        women = check_count("participants.women", self.women)
        youth = check_count("participants.youth", self.youth)
        if total is not None and women is not None and women > total:
            raise ValidationError("participants.women", "within_total", f"{women} women of {total}")
        if total is not None and youth is not None and youth > total:
            raise ValidationError("participants.youth", "within_total", f"{youth} youth of {total}")
        return Participants(total, women, youth)


@dataclass(frozen=True)
class Statement:
    """Something said at an engagement; under non-attribution, said by nobody in particular."""

    text: str
    speaker: PersonalData | None = None
    speaker_partner_id: UUID | None = None


@dataclass(frozen=True)
class FollowUp:
    """An action agreed at an engagement: who owns it, when it is due, whether it is done."""

    follow_up_id: UUID
    action: str
    owner: str
    due: date | None = None
    done: bool = False
    done_on: ValidTime | None = None


@dataclass(frozen=True)
class EngagementDetails:
    """Everything recorded about an engagement; a correction replaces some of these fields."""

    kind: str
    title: str
    start: ValidTime
    end: ValidTime | None = None
    location: str = ""
    virtual: bool = False
    organising_entities: tuple[str, ...] = ()
    partners: tuple[EngagementPartner, ...] = ()
    un_entities: tuple[str, ...] = ()
    mission_components: tuple[str, ...] = ()
    participants: Participants = Participants()
    individual_participants: tuple[PersonalData, ...] = ()
    summary: str = ""
    outcomes: tuple[str, ...] = ()
    statements: tuple[Statement, ...] = ()
    non_attribution: bool = False
    confidentiality: str = "internal"

    @property
    def partner_ids(self) -> tuple[UUID, ...]:
        return tuple(dict.fromkeys(p.partner_id for p in self.partners))

    def checked(self, today: date | None = None) -> EngagementDetails:
        """A validated, normalised copy, or the first ValidationError / RuleViolation found."""
        start = valid_time(self.start, "start", today=today)
        end = None if self.end is None else valid_time(self.end, "end", today=today)
        if end is not None and end.end < start.start:
            raise ValidationError(
                "end", "end_before_start", f"ends {end}, before it starts {start}"
            )
        for name in (
            "organising_entities",
            "partners",
            "un_entities",
            "individual_participants",
            "outcomes",
            "statements",
            "mission_components",
        ):
            if len(getattr(self, name)) > LIST_LIMIT:
                raise ValidationError(name, "max_items", f"at most {LIST_LIMIT} items")
        partners = tuple(
            EngagementPartner(
                p.partner_id, check_word(f"partners[{i}].role", p.role, PARTNER_ROLES)
            )
            for i, p in enumerate(self.partners)
        )
        statements = tuple(
            Statement(
                check_text(f"statements[{i}].text", s.text, LONG_TEXT_LIMIT, required=True),
                s.speaker,
                s.speaker_partner_id,
            )
            for i, s in enumerate(self.statements)
        )
        if not isinstance(self.non_attribution, bool) or not isinstance(self.virtual, bool):
            raise ValidationError("non_attribution", "type", "must be true or false")
        if self.non_attribution:
            for i, s in enumerate(statements):
                if s.speaker is not None or s.speaker_partner_id is not None:
                    raise RuleViolation(
                        "non_attribution",
                        "a non-attribution engagement records what was said, never who said it",
                        f"statements[{i}]",
                    )
        people = tuple(
            PersonalData(
                person_id=p.person_id,
                name=check_text(
                    f"individual_participants[{i}].name", p.name, NAME_LIMIT, required=True
                ),
                role=check_text(f"individual_participants[{i}].role", p.role, NAME_LIMIT),
                email=check_text(f"individual_participants[{i}].email", p.email, NAME_LIMIT),
                phone=check_text(f"individual_participants[{i}].phone", p.phone, NAME_LIMIT),
            )
            for i, p in enumerate(self.individual_participants)
        )
        return EngagementDetails(
            kind=check_word("kind", self.kind, ENGAGEMENT_KINDS),
            title=check_text("title", self.title, TITLE_LIMIT, required=True),
            start=start,
            end=end,
            location=check_text("location", self.location, NAME_LIMIT),
            virtual=self.virtual,
            organising_entities=check_texts(
                "organising_entities", self.organising_entities, NAME_LIMIT
            ),
            partners=tuple(dict.fromkeys(partners)),
            un_entities=check_texts("un_entities", self.un_entities, NAME_LIMIT),
            mission_components=check_words(
                "mission_components", self.mission_components, MISSION_COMPONENTS
            ),
            participants=self.participants.checked(),
            individual_participants=people,
            summary=check_text("summary", self.summary, LONG_TEXT_LIMIT),
            outcomes=check_texts("outcomes", self.outcomes, LONG_TEXT_LIMIT),
            statements=statements,
            non_attribution=self.non_attribution,
            confidentiality=check_word(
                "confidentiality", self.confidentiality, CONFIDENTIALITY_LEVELS
            ),
        )


CORRECTABLE_FIELDS = frozenset(f.name for f in fields(EngagementDetails))


def _tupled(value: Any) -> Any:
    """JSON gives lists back where tuples were stored; state keeps tuples either way."""
    if isinstance(value, list | tuple):
        return tuple(_tupled(v) for v in value)
    return value


def check_suspension_override(
    suspended_partner_ids: tuple[UUID, ...], override_reason: str | None
) -> str:
    """The override reason when suspended partners are involved, else "" (nothing overridden).

    An engagement with a suspended partner is refused unless a human rights officer overrides
    the refusal with a reason, which the event then carries.
    """
    if not suspended_partner_ids:
        return ""
    if override_reason is None or not override_reason.strip():
        raise RuleViolation(
            "suspended_partner",
            f"partners {[str(p) for p in suspended_partner_ids]} are suspended; "
            "a human rights officer may override with a reason",
            "partners",
        )
    if current_actor().role != HUMAN_RIGHTS_OFFICER:
        raise RuleViolation(
            "override_requires_hro",
            "only a human rights officer may override the refusal to engage a suspended partner",
            "override_reason",
        )
    return check_reason(override_reason, "override_reason")


class Engagement(RegistryAggregate):
    """One engagement with one or more partners; its events all carry the partners' ids."""

    # State is set by the events' apply methods; annotated for type checkers only, since
    # the library would turn class-level annotations into __init__ parameters.
    if TYPE_CHECKING:
        details: EngagementDetails
        follow_ups: dict[str, FollowUp]

    class Event(RegistryAggregate.Event):
        partner_ids: tuple[UUID, ...]

    class Recorded(Event, RegistryAggregate.Created):
        details: EngagementDetails
        overridden_suspensions: tuple[UUID, ...]

        def apply(self, aggregate: Any) -> None:
            aggregate.details = self.details
            aggregate.follow_ups = {}

    class Corrected(Event):
        changes: dict[str, Any]
        overridden_suspensions: tuple[UUID, ...]

        def apply(self, aggregate: Any) -> None:
            changes = {k: _tupled(v) for k, v in self.changes.items()}
            aggregate.details = replace(aggregate.details, **changes)

    class FollowUpAdded(Event):
        follow_up: FollowUp

        def apply(self, aggregate: Any) -> None:
            aggregate.follow_ups[str(self.follow_up.follow_up_id)] = self.follow_up

    class FollowUpCompleted(Event):
        follow_up_id: UUID

        def apply(self, aggregate: Any) -> None:
            key = str(self.follow_up_id)
            aggregate.follow_ups[key] = replace(
                aggregate.follow_ups[key], done=True, done_on=self.valid_time
            )

    @classmethod
    def record(
        cls,
        details: EngagementDetails,
        suspended_partner_ids: tuple[UUID, ...] = (),
        override_reason: str | None = None,
        record_id: UUID | None = None,
    ) -> Engagement:
        checked = details.checked()
        reason = check_suspension_override(suspended_partner_ids, override_reason)
        return cls._create(
            cls.Recorded,
            id=record_id,
            details=checked,
            partner_ids=checked.partner_ids,
            overridden_suspensions=tuple(suspended_partner_ids),
            valid_time=checked.start,
            reason=reason,
        )

    @property
    def partner_ids(self) -> tuple[UUID, ...]:
        return self.details.partner_ids

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        kwargs.setdefault("partner_ids", self.partner_ids)
        super().trigger_event(event_class, **kwargs)

    def correct(
        self,
        changes: dict[str, Any],
        reason: str,
        suspended_partner_ids: tuple[UUID, ...] = (),
        override_reason: str | None = None,
    ) -> None:
        """Record a correction of some fields; ``suspended_partner_ids`` are newly added ones."""
        unknown = set(changes) - CORRECTABLE_FIELDS
        if unknown:
            raise ValidationError(
                sorted(unknown)[0],
                "correctable",
                f"not a field of an engagement; one of {sorted(CORRECTABLE_FIELDS)}",
            )
        why = check_reason(reason)
        if self.details.non_attribution and changes.get("non_attribution", True) is not True:
            raise RuleViolation(
                "non_attribution",
                "an engagement held under non-attribution stays so: participants were promised it",
                "non_attribution",
            )
        corrected = replace(self.details, **changes).checked()
        changed = {
            k: getattr(corrected, k)
            for k in changes
            if getattr(corrected, k) != getattr(self.details, k)
        }
        if not changed:
            raise RuleViolation("no_change", "the correction changes nothing", "changes")
        override = check_suspension_override(suspended_partner_ids, override_reason)
        if override:
            why = f"{why}\noverride: {override}"
        self.trigger_event(
            self.Corrected,
            changes=changed,
            overridden_suspensions=tuple(suspended_partner_ids),
            partner_ids=tuple(dict.fromkeys((*self.partner_ids, *corrected.partner_ids))),
            reason=why,
        )

    def add_follow_up(self, follow_up: FollowUp) -> None:
        checked = FollowUp(
            follow_up_id=follow_up.follow_up_id,
            action=check_text("action", follow_up.action, LONG_TEXT_LIMIT, required=True),
            owner=check_text("owner", follow_up.owner, NAME_LIMIT, required=True),
            due=follow_up.due,
        )
        if str(checked.follow_up_id) in self.follow_ups:
            raise RuleViolation("follow_up_exists", f"follow-up {checked.follow_up_id} exists")
        self.trigger_event(self.FollowUpAdded, follow_up=checked)

    def complete_follow_up(self, follow_up_id: UUID, when: ValidTime) -> None:
        found = self.follow_ups.get(str(follow_up_id))
        if found is None:
            raise NotFound("follow-up", follow_up_id)
        if found.done:
            raise RuleViolation("follow_up_done", f"follow-up {follow_up_id} is already done")
        self.trigger_event(self.FollowUpCompleted, follow_up_id=follow_up_id, valid_time=when)
