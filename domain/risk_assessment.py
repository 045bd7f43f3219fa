"""RiskAssessment: risks of working with a partner, their mitigations, and the review workflow."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.actors import HUMAN_RIGHTS_OFFICER, current_actor
from domain.errors import Forbidden, NotFound, RuleViolation, ValidationError
from domain.recorded import RegistryAggregate
from domain.valid_time import ValidTime
from domain.validation import (
    LIST_LIMIT,
    LONG_TEXT_LIMIT,
    NAME_LIMIT,
    TITLE_LIMIT,
    check_reason,
    check_scale,
    check_text,
)
from domain.vocabulary import MITIGATION_STATUSES, RISK_CATEGORIES, check_word

DRAFT = "draft"
SUBMITTED = "submitted"
FINALISED = "finalised"
SUPERSEDED = "superseded"
WITHDRAWN = "withdrawn"

LOW = "low"
MEDIUM = "medium"
SIGNIFICANT = "significant"
HIGH = "high"
RATINGS = (LOW, MEDIUM, SIGNIFICANT, HIGH)


def rating_for(score: int) -> str:
    """Rating of a score (likelihood x impact): low 1-4, medium 5-9, significant 10-15, high 16+."""
    if not 1 <= score <= 25:
        raise ValueError(f"a score is from 1 to 25, got {score}")
    if score <= 4:
        return LOW
    if score <= 9:
        return MEDIUM
    if score <= 15:
        return SIGNIFICANT
    return HIGH


def rating_rank(rating: str) -> int:
    """Position of a rating in the order low < medium < significant < high."""
    return RATINGS.index(rating)


@dataclass(frozen=True)
class Risk:
    """One risk: its category, likelihood and impact (1-5), and what is known of it."""

    risk_id: UUID
    category: str
    likelihood: int
    impact: int
    description: str
    confidential_sources: str = ""

    @property
    def score(self) -> int:
        return self.likelihood * self.impact

    @property
    def rating(self) -> str:
        return rating_for(self.score)

    def checked(self) -> Risk:
        return Risk(
            risk_id=self.risk_id,
            category=check_word("category", self.category, RISK_CATEGORIES),
            likelihood=check_scale("likelihood", self.likelihood),
            impact=check_scale("impact", self.impact),
            description=check_text("description", self.description, LONG_TEXT_LIMIT, required=True),
            confidential_sources=check_text(
                "confidential_sources", self.confidential_sources, LONG_TEXT_LIMIT
            ),
        )


@dataclass(frozen=True)
class Mitigation:
    """A measure that lowers a risk: who owns it, when it is due, how far it has got."""

    mitigation_id: UUID
    measure: str
    owner: str
    due: date | None = None
    status: str = "planned"

    def checked(self) -> Mitigation:
        return Mitigation(
            mitigation_id=self.mitigation_id,
            measure=check_text("measure", self.measure, LONG_TEXT_LIMIT, required=True),
            owner=check_text("owner", self.owner, NAME_LIMIT, required=True),
            due=self.due,
            status=check_word("status", self.status, MITIGATION_STATUSES),
        )


def overall(risks: list[Risk] | tuple[Risk, ...]) -> tuple[int, str] | None:
    """The highest score among ``risks`` and its rating; None when there are none."""
    if not risks:
        return None
    top = max(r.score for r in risks)
    return top, rating_for(top)


class RiskAssessment(RegistryAggregate):
    """An assessment of one partner (optionally for one engagement); decisions cite its versions."""

    # State is set by the events' apply methods; annotated for type checkers only, since
    # the library would turn class-level annotations into __init__ parameters.
    if TYPE_CHECKING:
        partner_id: UUID
        engagement_id: UUID | None
        title: str
        risks: list[Risk]
        mitigations: dict[str, Mitigation]
        status: str
        finalised_on: ValidTime | None
        ended_on: ValidTime | None
        superseded_by: UUID | None
        withdrawal_reason: str

    class Event(RegistryAggregate.Event):
        partner_id: UUID

    class Opened(Event, RegistryAggregate.Created):
        engagement_id: UUID | None
        title: str

        def apply(self, aggregate: Any) -> None:
            aggregate.partner_id = self.partner_id
            aggregate.engagement_id = self.engagement_id
            aggregate.title = self.title
            aggregate.risks = []
            aggregate.mitigations = {}
            aggregate.status = DRAFT
            aggregate.finalised_on = None
            aggregate.ended_on = None
            aggregate.superseded_by = None
            aggregate.withdrawal_reason = ""

    class RiskAdded(Event):
        risk: Risk

        def apply(self, aggregate: Any) -> None:
            aggregate.risks.append(self.risk)

    class MitigationAdded(Event):
        mitigation: Mitigation

        def apply(self, aggregate: Any) -> None:
            aggregate.mitigations[str(self.mitigation.mitigation_id)] = self.mitigation

    class MitigationStatusUpdated(Event):
        mitigation_id: UUID
        status: str

        def apply(self, aggregate: Any) -> None:
            key = str(self.mitigation_id)
            aggregate.mitigations[key] = replace(aggregate.mitigations[key], status=self.status)

    class Submitted(Event):
        def apply(self, aggregate: Any) -> None:
            aggregate.status = SUBMITTED

    class Finalised(Event):
        score: int
        rating: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = FINALISED
            aggregate.finalised_on = self.valid_time

    class Superseded(Event):
        superseded_by: UUID

        def apply(self, aggregate: Any) -> None:
            aggregate.status = SUPERSEDED
            aggregate.superseded_by = self.superseded_by
            aggregate.ended_on = self.valid_time

    class Withdrawn(Event):
        def apply(self, aggregate: Any) -> None:
            aggregate.status = WITHDRAWN
            aggregate.withdrawal_reason = self.reason
            aggregate.ended_on = self.valid_time

    @classmethod
    def open(
        cls,
        partner_id: UUID,
        valid_time: ValidTime,
        engagement_id: UUID | None = None,
        title: str = "",
        record_id: UUID | None = None,
    ) -> RiskAssessment:
        return cls._create(
            cls.Opened,
            id=record_id,
            partner_id=partner_id,
            engagement_id=engagement_id,
            title=check_text("title", title, TITLE_LIMIT),
            valid_time=valid_time,
        )

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        kwargs.setdefault("partner_id", self.partner_id)
        super().trigger_event(event_class, **kwargs)

    @property
    def score(self) -> int | None:
        found = overall(self.risks)
        return None if found is None else found[0]

    @property
    def rating(self) -> str | None:
        """The overall rating: that of the assessment's highest risk."""
        found = overall(self.risks)
        return None if found is None else found[1]

    def was_finalised_on(self, day: date) -> bool:
        """True when this assessment stood finalised on ``day`` (valid time, not recorded time).

        Histories are often recorded late: an assessment superseded in 2022 still stood when a
        decision of 2021 relied on it.
        """
        if self.finalised_on is None or self.finalised_on.start > day:
            return False
        if self.status == FINALISED:
            return True
        return self.status in (SUPERSEDED, WITHDRAWN) and (
            self.ended_on is not None and self.ended_on.start > day
        )

    def check_status(self, rule: str, *allowed: str) -> None:
        if self.status not in allowed:
            raise RuleViolation(
                rule,
                f"assessment {self.id} is {self.status}; this needs it {' or '.join(allowed)}",
                "status",
            )

    def add_risk(self, risk: Risk) -> None:
        # Risks decide the rating that decisions rely on, so they are fixed once submitted.
        checked = risk.checked()
        self.check_status("risks_only_in_draft", DRAFT)
        if len(self.risks) >= LIST_LIMIT:
            raise ValidationError("risks", "max_items", f"at most {LIST_LIMIT} risks")
        self.trigger_event(self.RiskAdded, risk=checked)

    def add_mitigation(self, mitigation: Mitigation) -> None:
        checked = mitigation.checked()
        self.check_status("mitigations_only_in_draft", DRAFT)
        if str(checked.mitigation_id) in self.mitigations:
            raise RuleViolation("mitigation_exists", f"mitigation {checked.mitigation_id} exists")
        self.trigger_event(self.MitigationAdded, mitigation=checked)

    def update_mitigation_status(
        self, mitigation_id: UUID, status: str, valid_time: ValidTime
    ) -> None:
        # Monitoring goes on after finalisation, so status updates are allowed until the
        # assessment is superseded or withdrawn.
        check_word("status", status, MITIGATION_STATUSES)
        if str(mitigation_id) not in self.mitigations:
            raise NotFound("mitigation", mitigation_id)
        self.check_status("mitigation_status_while_current", DRAFT, SUBMITTED, FINALISED)
        self.trigger_event(
            self.MitigationStatusUpdated,
            mitigation_id=mitigation_id,
            status=status,
            valid_time=valid_time,
        )

    def submit(self, valid_time: ValidTime) -> None:
        self.check_status("submit_from_draft", DRAFT)
        if not self.risks:
            raise RuleViolation("risks_required", "an assessment needs at least one risk", "risks")
        self.trigger_event(self.Submitted, valid_time=valid_time)

    def finalise(self, valid_time: ValidTime) -> None:
        if current_actor().role != HUMAN_RIGHTS_OFFICER:
            raise Forbidden("only a human rights officer may finalise a risk assessment")
        self.check_status("finalise_from_submitted", SUBMITTED)
        found = overall(self.risks)
        assert found is not None  # submitted assessments have risks
        self.trigger_event(self.Finalised, score=found[0], rating=found[1], valid_time=valid_time)

    def supersede(self, by: RiskAssessment, valid_time: ValidTime) -> None:
        if by.id == self.id:
            raise RuleViolation(
                "supersede_by_other", "an assessment cannot supersede itself", "superseded_by"
            )
        if by.partner_id != self.partner_id:
            raise RuleViolation(
                "same_partner", "the new assessment concerns another partner", "superseded_by"
            )
        if by.status != FINALISED:
            raise RuleViolation(
                "superseding_finalised",
                f"the new assessment is {by.status}, not finalised",
                "superseded_by",
            )
        self.check_status("supersede_finalised", FINALISED)
        self.trigger_event(self.Superseded, superseded_by=by.id, valid_time=valid_time)

    def withdraw(self, reason: str, valid_time: ValidTime) -> None:
        why = check_reason(reason)
        self.check_status("withdraw_current", DRAFT, SUBMITTED, FINALISED)
        self.trigger_event(self.Withdrawn, reason=why, valid_time=valid_time)
