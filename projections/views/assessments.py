"""Risk assessments view: status, rating, open mitigations; feeds partners' current rating."""

from __future__ import annotations

from typing import Any

from domain.risk_assessment import RiskAssessment, rating_for
from projections.batch import Appends, Fact, ViewBatch
from projections.handlers import HANDLERS
from projections.views.timeline import add_entry

R = RiskAssessment


def refresh_current_rating(batch: ViewBatch, partner_id: str) -> None:
    """Rating of the partner's latest finalised assessment (not superseded, not withdrawn)."""
    batch.execute(
        "UPDATE view_partners SET current_rating = ("
        " SELECT a.rating FROM view_assessments a"
        " WHERE a.partner_id = ? AND a.status = 'finalised'"
        " ORDER BY a.finalised_on DESC, a.finalised_at DESC, a.assessment_id DESC LIMIT 1)"
        " WHERE partner_id = ?",
        (partner_id, partner_id),
    )


@HANDLERS.on(R.Event, reads=(), appends_only=True)
def touch_assessment(batch: Appends, event: Any, fact: Fact) -> None:
    if not isinstance(event, R.Opened):
        batch.touch("view_assessments", "assessment_id", fact)


@HANDLERS.on(R.Opened, reads=("partner_id", "engagement_id", "title"))
def assessment_opened(batch: ViewBatch, event: Any, fact: Fact) -> None:
    batch.insert(
        "view_assessments",
        {
            "assessment_id": fact.record_id,
            "partner_id": str(event.partner_id),
            "engagement_id": None if event.engagement_id is None else str(event.engagement_id),
            "title": event.title,
            "status": "draft",
            "max_score": None,
            "rating": None,
            "risk_count": 0,
            "opened_on": fact.valid_start,
            "finalised_on": None,
            "finalised_at": None,
            "superseded_by": None,
            "recorded_at": fact.recorded_at,
            "updated_at": fact.recorded_at,
            "version": fact.version,
        },
    )
    batch.memo["max_score", fact.record_id] = None


def _max_score(batch: ViewBatch, assessment_id: str) -> Any:
    """The assessment's ``max_score`` (None if it has none, or no row), from the memo if set."""
    key = ("max_score", assessment_id)
    if key in batch.memo:
        return batch.memo[key]
    rows = batch.query(
        "SELECT max_score FROM view_assessments WHERE assessment_id = ?", (assessment_id,)
    )
    return rows[0]["max_score"] if rows else None


@HANDLERS.on(R.RiskAdded, reads=("risk",))
def risk_added(batch: ViewBatch, event: Any, fact: Fact) -> None:
    previous = _max_score(batch, fact.record_id)
    score = int(event.risk.likelihood) * int(event.risk.impact)
    top = score if previous is None else max(int(previous), score)
    batch.execute(
        "UPDATE view_assessments SET max_score = ?, rating = ?, risk_count = risk_count + 1 "
        "WHERE assessment_id = ?",
        (top, rating_for(top), fact.record_id),
    )
    batch.memo["max_score", fact.record_id] = top


@HANDLERS.on(R.MitigationAdded, reads=("mitigation", "partner_id"))
def mitigation_added(batch: ViewBatch, event: Any, fact: Fact) -> None:
    m = event.mitigation
    batch.insert(
        "view_mitigations",
        {
            "assessment_id": fact.record_id,
            "mitigation_id": str(m.mitigation_id),
            "partner_id": str(event.partner_id),
            "measure": m.measure,
            "owner": m.owner,
            "due_on": None if m.due is None else m.due.isoformat(),
            "status": m.status,
        },
    )


@HANDLERS.on(R.MitigationStatusUpdated, reads=("mitigation_id", "status"))
def mitigation_status_updated(batch: ViewBatch, event: Any, fact: Fact) -> None:
    batch.execute(
        "UPDATE view_mitigations SET status = ? WHERE assessment_id = ? AND mitigation_id = ?",
        (event.status, fact.record_id, str(event.mitigation_id)),
    )


@HANDLERS.on(R.Submitted, reads=())
def assessment_submitted(batch: ViewBatch, event: Any, fact: Fact) -> None:  # noqa: ARG001
    batch.execute(
        "UPDATE view_assessments SET status = 'submitted' WHERE assessment_id = ?",
        (fact.record_id,),
    )


@HANDLERS.on(R.Finalised, reads=("score", "rating", "partner_id"))
def assessment_finalised(batch: ViewBatch, event: Any, fact: Fact) -> None:
    batch.execute(
        "UPDATE view_assessments SET status = 'finalised', max_score = ?, rating = ?,"
        " finalised_on = ?, finalised_at = ? WHERE assessment_id = ?",
        (event.score, event.rating, fact.valid_start, fact.recorded_at, fact.record_id),
    )
    batch.memo.pop(("max_score", fact.record_id), None)  # as stored: read it back if needed
    partner_id = str(event.partner_id)
    refresh_current_rating(batch, partner_id)
    add_entry(
        batch,
        fact,
        "assessment_finalised",
        f"risk assessment finalised: {event.rating}",
        [partner_id],
    )


@HANDLERS.on(R.Superseded, reads=("partner_id", "superseded_by"))
@HANDLERS.on(R.Withdrawn, reads=("partner_id",))
def assessment_retired(batch: ViewBatch, event: Any, fact: Fact) -> None:
    status = "superseded" if isinstance(event, R.Superseded) else "withdrawn"
    by = str(event.superseded_by) if isinstance(event, R.Superseded) else None
    batch.execute(
        "UPDATE view_assessments SET status = ?, superseded_by = ? WHERE assessment_id = ?",
        (status, by, fact.record_id),
    )
    partner_id = str(event.partner_id)
    refresh_current_rating(batch, partner_id)
    add_entry(batch, fact, f"assessment_{status}", f"risk assessment {status}", [partner_id])
