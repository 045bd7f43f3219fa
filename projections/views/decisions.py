"""Due-diligence decisions view: outcome, proposer and decider, review dates, cited assessments."""

from __future__ import annotations

from typing import Any

from domain.decision import DueDiligenceDecision
from projections.batch import Appends, Fact, ViewBatch
from projections.handlers import HANDLERS
from projections.views.timeline import add_entry

D = DueDiligenceDecision


@HANDLERS.on(D.Event, reads=(), appends_only=True)
def touch_decision(batch: Appends, event: Any, fact: Fact) -> None:
    if not isinstance(event, D.Proposed):
        batch.touch("view_decisions", "decision_id", fact)


@HANDLERS.on(D.Proposed, reads=("partner_id", "scope", "relied_on"))
def decision_proposed(batch: ViewBatch, event: Any, fact: Fact) -> None:
    partner_id = str(event.partner_id)
    batch.insert(
        "view_decisions",
        {
            "decision_id": fact.record_id,
            "partner_id": partner_id,
            "scope": event.scope,
            "status": "proposed",
            "outcome": None,
            "proposer_id": fact.actor_id,
            "proposer_role": fact.actor_role,
            "decider_id": None,
            "decider_role": None,
            "condition_count": 0,
            "review_due": None,
            "review_count": 0,
            "decided_on": None,
            "proposed_at": fact.recorded_at,
            "updated_at": fact.recorded_at,
            "version": fact.version,
        },
    )
    batch.insert_many(
        "view_decision_assessments",
        [
            {
                "decision_id": fact.record_id,
                "assessment_id": str(r.assessment_id),
                "assessment_version": int(r.version),
                "score": int(r.score),
                "rating": r.rating,
            }
            for r in {str(r.assessment_id): r for r in event.relied_on}.values()
        ],
    )
    add_entry(batch, fact, "decision_proposed", f"decision proposed: {event.scope}", [partner_id])


@HANDLERS.on(D.Decided, reads=("outcome", "conditions", "review_due", "partner_id"))
def decision_decided(batch: ViewBatch, event: Any, fact: Fact) -> None:
    batch.execute(
        "UPDATE view_decisions SET status = 'decided', outcome = ?, decider_id = ?,"
        " decider_role = ?, condition_count = ?, review_due = ?, decided_on = ?"
        " WHERE decision_id = ?",
        (
            event.outcome,
            fact.actor_id,
            fact.actor_role,
            len(event.conditions),
            None if event.review_due is None else event.review_due.isoformat(),
            fact.valid_start,
            fact.record_id,
        ),
    )
    add_entry(batch, fact, "decision", f"decision: {event.outcome}", [event.partner_id])


@HANDLERS.on(D.Reviewed, reads=("outcome", "next_review_due", "partner_id"))
def decision_reviewed(batch: ViewBatch, event: Any, fact: Fact) -> None:
    due = None if event.next_review_due is None else event.next_review_due.isoformat()
    batch.execute(
        "UPDATE view_decisions SET review_count = review_count + 1,"
        " review_due = COALESCE(?, review_due) WHERE decision_id = ?",
        (due, fact.record_id),
    )
    add_entry(
        batch, fact, "decision_reviewed", f"decision reviewed: {event.outcome}", [event.partner_id]
    )


@HANDLERS.on(D.Communicated, reads=("channel", "partner_id"))
def decision_communicated(batch: ViewBatch, event: Any, fact: Fact) -> None:
    add_entry(
        batch,
        fact,
        "decision_communicated",
        f"decision communicated ({event.channel})",
        [event.partner_id],
    )
