"""DueDiligenceDecision: whether to support a partner, relying on finalised risk assessments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.actors import HUMAN_RIGHTS_OFFICER, current_actor
from domain.errors import RuleViolation, ValidationError
from domain.recorded import RegistryAggregate
from domain.risk_assessment import FINALISED, HIGH, SIGNIFICANT, RiskAssessment, rating_rank
from domain.valid_time import ValidTime
from domain.validation import LIST_LIMIT, LONG_TEXT_LIMIT, check_reason, check_text, check_texts
from domain.vocabulary import (
    APPROVALS,
    APPROVED_WITH_CONDITIONS,
    COMMUNICATION_CHANNELS,
    DECISION_OUTCOMES,
    DECISION_SCOPES,
    DECLINED,
    DEFERRED,
    REVIEW_OUTCOMES,
    REVOKED,
    SUSPENDED_OUTCOME,
    check_word,
)

PROPOSED = "proposed"
DECIDED = "decided"

# Which outcome may follow which: nothing can be suspended before it was approved, and a
# declined or revoked decision is closed (a new proposal starts afresh).
NEXT_OUTCOMES: dict[str | None, frozenset[str]] = {
    None: frozenset(APPROVALS | {DEFERRED, DECLINED}),
    DEFERRED: frozenset(APPROVALS | {DEFERRED, DECLINED}),
    "approved": frozenset({SUSPENDED_OUTCOME, REVOKED}),
    APPROVED_WITH_CONDITIONS: frozenset({SUSPENDED_OUTCOME, REVOKED}),
    SUSPENDED_OUTCOME: frozenset(APPROVALS | {REVOKED}),
    DECLINED: frozenset(),
    REVOKED: frozenset(),
}


@dataclass(frozen=True)
class ReliedOn:
    """A finalised assessment as a decision cites it: at one version, with its rating then."""

    assessment_id: UUID
    version: int
    score: int
    rating: str
    finalised_on: date


def cite(assessment: RiskAssessment, partner_id: UUID, field: str = "relied_on") -> ReliedOn:
    """Cite ``assessment`` at its loaded version, if it is a finalised assessment of the partner."""
    if assessment.partner_id != partner_id:
        raise RuleViolation(
            "assessment_of_other_partner",
            f"assessment {assessment.id} concerns partner {assessment.partner_id}, "
            f"not {partner_id}",
            field,
        )
    if assessment.status != FINALISED or assessment.finalised_on is None:
        raise RuleViolation(
            "assessment_not_finalised",
            f"assessment {assessment.id} is {assessment.status}; decisions rely on finalised ones",
            field,
        )
    score, rating = assessment.score, assessment.rating
    # Finalised assessments have risks, hence a score and rating.
    assert score is not None
    assert rating is not None
    return ReliedOn(assessment.id, assessment.version, score, rating, assessment.finalised_on.start)


@dataclass(frozen=True)
class Communication:
    """How and when a decision was communicated to the partner."""

    channel: str
    communicated_on: ValidTime
    note: str = ""


@dataclass(frozen=True)
class Review:
    """A periodic review of a decision: its outcome, by whom, and what it relied on."""

    outcome: str
    reviewed_on: ValidTime
    reviewer_id: str
    relied_on: tuple[ReliedOn, ...] = ()
    next_review_due: date | None = None
    note: str = ""


def highest_rating(relied_on: list[ReliedOn] | tuple[ReliedOn, ...]) -> str | None:
    if not relied_on:
        return None
    return max((r.rating for r in relied_on), key=rating_rank)


class DueDiligenceDecision(RegistryAggregate):
    """A due-diligence decision about one partner and one scope of support."""

    # State is set by the events' apply methods; annotated for type checkers only, since
    # the library would turn class-level annotations into __init__ parameters.
    if TYPE_CHECKING:
        partner_id: UUID
        scope: str
        relied_on: list[ReliedOn]
        proposer_id: str
        proposer_role: str
        status: str
        outcome: str | None
        rationale: str
        decider_id: str | None
        decider_role: str | None
        decided_on: ValidTime | None
        conditions: list[str]
        review_due: date | None
        dissents: list[str]
        communications: list[Communication]
        reviews: list[Review]

    class Event(RegistryAggregate.Event):
        partner_id: UUID

    class Proposed(Event, RegistryAggregate.Created):
        scope: str
        relied_on: tuple[ReliedOn, ...]

        def apply(self, aggregate: Any) -> None:
            aggregate.partner_id = self.partner_id
            aggregate.scope = self.scope
            aggregate.relied_on = list(self.relied_on)
            aggregate.proposer_id = self.actor_id
            aggregate.proposer_role = self.actor_role
            aggregate.status = PROPOSED
            aggregate.outcome = None
            aggregate.rationale = ""
            aggregate.decider_id = None
            aggregate.decider_role = None
            aggregate.decided_on = None
            aggregate.conditions = []
            aggregate.review_due = None
            aggregate.dissents = []
            aggregate.communications = []
            aggregate.reviews = []

    class Decided(Event):
        outcome: str
        conditions: tuple[str, ...]
        review_due: date | None

        def apply(self, aggregate: Any) -> None:
            aggregate.status = DECIDED
            aggregate.outcome = self.outcome
            aggregate.rationale = self.reason
            aggregate.decider_id = self.actor_id
            aggregate.decider_role = self.actor_role
            aggregate.decided_on = self.valid_time
            aggregate.conditions = list(self.conditions)
            aggregate.review_due = self.review_due

    class DissentRecorded(Event):
        def apply(self, aggregate: Any) -> None:
            aggregate.dissents.append(self.reason)

    class Communicated(Event):
        channel: str
        note: str

        def apply(self, aggregate: Any) -> None:
            aggregate.communications.append(Communication(self.channel, self.valid_time, self.note))

    class Reviewed(Event):
        outcome: str
        relied_on: tuple[ReliedOn, ...]
        next_review_due: date | None

        def apply(self, aggregate: Any) -> None:
            review = Review(
                self.outcome,
                self.valid_time,
                self.actor_id,
                tuple(self.relied_on),
                self.next_review_due,
                self.reason,
            )
            aggregate.reviews.append(review)
            if self.next_review_due is not None:
                aggregate.review_due = self.next_review_due

    @classmethod
    def propose(
        cls,
        partner_id: UUID,
        scope: str,
        relied_on: tuple[ReliedOn, ...],
        valid_time: ValidTime,
        reason: str = "",
        record_id: UUID | None = None,
    ) -> DueDiligenceDecision:
        if len(relied_on) > LIST_LIMIT:
            raise ValidationError("relied_on", "max_items", f"at most {LIST_LIMIT} assessments")
        return cls._create(
            cls.Proposed,
            id=record_id,
            partner_id=partner_id,
            scope=check_word("scope", scope, DECISION_SCOPES),
            relied_on=tuple(dict.fromkeys(relied_on)),
            valid_time=valid_time,
            reason=check_text("reason", reason, LONG_TEXT_LIMIT),
        )

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        kwargs.setdefault("partner_id", self.partner_id)
        super().trigger_event(event_class, **kwargs)

    @property
    def highest_rating(self) -> str | None:
        return highest_rating(self.relied_on)

    def is_review_overdue(self, today: date) -> bool:
        """True when the decision stands approved and its review due date has passed."""
        return self.outcome in APPROVALS and self.review_due is not None and self.review_due < today

    def decide(
        self,
        outcome: str,
        rationale: str,
        valid_time: ValidTime,
        review_period_days: int,
        still_finalised: frozenset[UUID],
        conditions: tuple[str, ...] = (),
        review_due: date | None = None,
    ) -> None:
        """Decide; ``still_finalised`` holds the cited assessments that are finalised now."""
        check_word("outcome", outcome, DECISION_OUTCOMES)
        why = check_reason(rationale, "rationale")
        checked_conditions = check_texts("conditions", conditions, LONG_TEXT_LIMIT)
        if outcome == APPROVED_WITH_CONDITIONS and not checked_conditions:
            raise ValidationError(
                "conditions", "required", "an approval with conditions names them"
            )
        if outcome in APPROVALS:
            if review_due is None:
                raise ValidationError(
                    "review_due", "required", "an approval carries a review due date"
                )
            if review_due <= valid_time.start:
                raise ValidationError(
                    "review_due", "after_decision", "the review falls after the decision"
                )
        if outcome not in NEXT_OUTCOMES[self.outcome]:
            raise RuleViolation(
                "decision_transition",
                f"a decision {self.outcome or PROPOSED} cannot become {outcome}",
                "outcome",
            )
        actor = current_actor()
        rating = self.highest_rating
        if outcome in APPROVALS:
            self.check_approval_basis(valid_time, review_period_days, still_finalised)
            if rating == HIGH:
                if not checked_conditions:
                    raise RuleViolation(
                        "high_rating_needs_conditions",
                        "an approval relying on a high risk rating must set conditions",
                        "conditions",
                    )
                if actor.role != HUMAN_RIGHTS_OFFICER:
                    raise RuleViolation(
                        "high_rating_needs_hro",
                        "only a human rights officer may approve relying on a high risk rating",
                        "decider",
                    )
        if rating in (SIGNIFICANT, HIGH) and actor.subject_id == self.proposer_id:
            raise RuleViolation(
                "two_person_rule",
                f"with a {rating} rating the decider must not be the proposer",
                "decider",
            )
        self.trigger_event(
            self.Decided,
            outcome=outcome,
            conditions=checked_conditions,
            review_due=review_due if outcome in APPROVALS else None,
            valid_time=valid_time,
            reason=why,
        )

    def check_approval_basis(
        self, valid_time: ValidTime, review_period_days: int, still_finalised: frozenset[UUID]
    ) -> None:
        if not self.relied_on:
            raise RuleViolation(
                "approval_needs_assessment",
                "an approval relies on at least one finalised assessment of the partner",
                "relied_on",
            )
        for cited in self.relied_on:
            if cited.assessment_id not in still_finalised:
                raise RuleViolation(
                    "assessment_no_longer_current",
                    f"assessment {cited.assessment_id} was superseded or withdrawn since "
                    "it was cited",
                    "relied_on",
                )
        if not any(
            (valid_time.start - c.finalised_on).days <= review_period_days for c in self.relied_on
        ):
            raise RuleViolation(
                "assessment_too_old",
                f"no cited assessment was finalised within {review_period_days} days "
                "of the decision",
                "relied_on",
            )

    def record_dissent(self, dissent: str, valid_time: ValidTime) -> None:
        text = check_reason(dissent, "dissent")
        self.trigger_event(self.DissentRecorded, reason=text, valid_time=valid_time)

    def record_communication(self, channel: str, valid_time: ValidTime, note: str = "") -> None:
        checked = check_word("channel", channel, COMMUNICATION_CHANNELS)
        text = check_text("note", note, LONG_TEXT_LIMIT)
        if self.status != DECIDED:
            raise RuleViolation(
                "communicate_decided", "only a decision taken can be communicated", "status"
            )
        self.trigger_event(self.Communicated, channel=checked, note=text, valid_time=valid_time)

    def review(
        self,
        outcome: str,
        note: str,
        valid_time: ValidTime,
        relied_on: tuple[ReliedOn, ...] = (),
        next_review_due: date | None = None,
    ) -> None:
        check_word("outcome", outcome, REVIEW_OUTCOMES)
        why = check_reason(note, "note")
        if outcome.startswith("continue") and next_review_due is None:
            raise ValidationError(
                "next_review_due", "required", "a continued decision is reviewed again"
            )
        if next_review_due is not None and next_review_due <= valid_time.start:
            raise ValidationError(
                "next_review_due", "after_review", "the next review falls after this one"
            )
        if self.outcome not in (*APPROVALS, SUSPENDED_OUTCOME):
            raise RuleViolation(
                "review_standing_decision",
                f"a decision {self.outcome or PROPOSED} is not reviewed",
                "status",
            )
        self.trigger_event(
            self.Reviewed,
            outcome=outcome,
            relied_on=tuple(dict.fromkeys(relied_on)),
            next_review_due=next_review_due,
            valid_time=valid_time,
            reason=why,
        )
