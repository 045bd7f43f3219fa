"""Loads the shipped demo dataset through the application's commands, idempotently.

Every demo record gets an id derived from its key in the dataset, so a second load finds each
record already there and adds nothing; an interrupted load resumes where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

from domain.actors import ADMIN, HUMAN_RIGHTS_OFFICER, RECORDER, Actor, acting_as
from domain.application import PartnershipRegistry
from domain.engagement import Participants
from domain.errors import NotFound
from domain.risk_assessment import FINALISED, SUPERSEDED

DEMO_NAMESPACE = UUID("6f1c3a52-58f4-4e43-9a43-6d2b8f0c1e77")
DEMO_ACTORS = {
    RECORDER: Actor("demo-civil-affairs-officer", RECORDER),
    HUMAN_RIGHTS_OFFICER: Actor("demo-human-rights-officer", HUMAN_RIGHTS_OFFICER),
    ADMIN: Actor("demo-administrator", ADMIN),
}
# Public documents are public; the fictional mission-setting records say how they are held.
DEFAULT_CONFIDENTIALITY = "public"


def dataset_path() -> Path:
    """The dataset shipped inside the project (demo/dataset.json beside the packages)."""
    return Path(__file__).resolve().parent.parent / "demo" / "dataset.json"


def demo_id(kind: str, key: str) -> UUID:
    """The stable id of a demo record, so loading twice finds it."""
    return uuid5(DEMO_NAMESPACE, f"{kind}:{key}")


@dataclass
class LoadReport:
    """How many records a load added (zero everywhere on a second load)."""

    partners: int = 0
    contacts: int = 0
    engagements: int = 0
    follow_ups: int = 0
    risk_assessments: int = 0
    decisions: int = 0
    last_position: int = 0

    @property
    def added(self) -> int:
        return (
            self.partners + self.contacts + self.engagements + self.follow_ups
            + self.risk_assessments + self.decisions
        )  # fmt: skip


def load_demo(
    registry: PartnershipRegistry,
    path: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> LoadReport:
    """Load the dataset; safe to run again (adds nothing) or after an interruption."""
    data: dict[str, Any] = json.loads((path or dataset_path()).read_text(encoding="utf-8"))
    report = LoadReport()
    loader = _Loader(registry, report, progress or (lambda _: None))
    first_seen = _first_seen(data)
    for organisation in data["organisations"]:
        loader.partner(organisation, first_seen.get(organisation["key"]))
    for contact in data["contacts"]:
        loader.contact(contact)
    for engagement in data["engagements"]:
        loader.engagement(engagement)
    for assessment in data["risk_assessments"]:
        loader.risk_assessment(assessment)
    # Decisions cite assessments as they stood when proposed, so they come before supersession.
    for decision in data["decisions"]:
        loader.decision(decision)
    for assessment in data["risk_assessments"]:
        loader.supersession(assessment)
    for decision in data["decisions"]:
        loader.reviews(decision)
    report.last_position = registry.max_position()
    return report


def _first_seen(data: dict[str, Any]) -> dict[str, str]:
    """When the mission first worked with each organisation, as the dataset shows it.

    Registration is backdated to that date (valid time), keeping the precision the sources
    give; the registry still records when it learned of it (recorded time).
    """
    seen: dict[str, str] = {}

    def saw(org: str, when: str) -> None:
        if org not in seen or when[:10] < seen[org][:10]:
            seen[org] = when

    for engagement in data["engagements"]:
        for partner in engagement["partners"]:
            saw(partner["org"], engagement["occurred_on"])
    for assessment in data["risk_assessments"]:
        saw(assessment["org"], assessment["assessed_on"])
    return seen


@contextmanager
def _as(role: str) -> Iterator[Actor]:
    with acting_as(DEMO_ACTORS[role]) as actor:
        yield actor


class _Loader:
    def __init__(
        self, registry: PartnershipRegistry, report: LoadReport, progress: Callable[[str], None]
    ) -> None:
        self.registry = registry
        self.report = report
        self.progress = progress

    def _exists(self, getter: Callable[[UUID], object], record_id: UUID) -> bool:
        try:
            getter(record_id)
        except NotFound:
            return False
        return True

    def partner(self, org: dict[str, Any], first_seen: str | None) -> None:
        partner_id = demo_id("partner", org["key"])
        if self._exists(self.registry.get_partner, partner_id):
            return
        with _as(RECORDER):
            self.registry.register_partner(
                org["name"],
                org["kind"],
                org["scope"],
                acronym=org.get("acronym", ""),
                countries=org.get("countries", ()),
                focus_areas=org.get("focus_areas", ()),
                external_id=f"demo:{org['key']}",
                record_id=partner_id,
                on=first_seen,
            )
            self.registry.activate_partner(partner_id, on=first_seen)
        self.report.partners += 1
        self.progress(f"partner {org.get('acronym') or org['key']}")

    def contact(self, contact: dict[str, Any]) -> None:
        partner_id = demo_id("partner", contact["org"])
        person_id = demo_id("person", f"{contact['org']}:{contact['name']}")
        partner = self.registry.get_partner(partner_id)
        if str(person_id) in partner.contacts or person_id in partner.contacts:
            return
        with _as(RECORDER):
            self.registry.add_contact_person(
                partner_id,
                contact["name"],
                role=contact.get("role", ""),
                email=contact.get("email", ""),
                phone=contact.get("phone", ""),
                person_id=person_id,
            )
        self.report.contacts += 1

    def engagement(self, item: dict[str, Any]) -> None:
        engagement_id = demo_id("engagement", item["key"])
        if not self._exists(self.registry.get_engagement, engagement_id):
            participants = item.get("participants") or {}
            with _as(RECORDER):
                self.registry.record_engagement(
                    item["kind"],
                    item["title"],
                    item["occurred_on"],
                    location=item.get("location", ""),
                    partners=[(demo_id("partner", p["org"]), p["role"]) for p in item["partners"]],
                    un_entities=item.get("un_entities", ()),
                    mission_components=item.get("mission_components", ()),
                    participants=Participants(
                        participants.get("total"),
                        participants.get("women"),
                        participants.get("youth"),
                    ),
                    summary=item.get("summary", ""),
                    outcomes=item.get("outcomes", ()),
                    non_attribution=bool(item.get("non_attribution", False)),
                    confidentiality=item.get("confidentiality", DEFAULT_CONFIDENTIALITY),
                    record_id=engagement_id,
                )
            self.report.engagements += 1
            self.progress(f"engagement {item['key']}")
        recorded = self.registry.get_engagement(engagement_id)
        known = {f.action for f in recorded.follow_ups.values()}
        for follow_up in item.get("follow_ups", ()):
            if follow_up["action"] in known:
                continue
            with _as(RECORDER):
                self.registry.add_follow_up(
                    engagement_id, follow_up["action"], follow_up["owner"], due=follow_up.get("due")
                )
            self.report.follow_ups += 1

    def risk_assessment(self, item: dict[str, Any]) -> None:
        assessment_id = demo_id("risk assessment", item["key"])
        partner_id = demo_id("partner", item["org"])
        if not self._exists(self.registry.get_risk_assessment, assessment_id):
            engagement = item.get("engagement")
            with _as(HUMAN_RIGHTS_OFFICER):
                self.registry.open_risk_assessment(
                    partner_id,
                    engagement_id=demo_id("engagement", engagement) if engagement else None,
                    on=item["assessed_on"],
                    record_id=assessment_id,
                )
            self.report.risk_assessments += 1
            self.progress(f"risk assessment {item['key']}")
        assessment = self.registry.get_risk_assessment(assessment_id)
        if assessment.status in (FINALISED, SUPERSEDED):
            return
        with _as(HUMAN_RIGHTS_OFFICER):
            if not assessment.risks:
                for risk in item["risks"]:
                    self.registry.add_risk(
                        assessment_id,
                        risk["category"],
                        risk["likelihood"],
                        risk["impact"],
                        risk["description"],
                        confidential_sources=risk.get("sources", ""),
                    )
            if not assessment.mitigations:
                for mitigation in item["mitigations"]:
                    self.registry.add_mitigation(
                        assessment_id,
                        mitigation["measure"],
                        mitigation["owner"],
                        due=mitigation.get("due"),
                    )
            if self.registry.get_risk_assessment(assessment_id).status == "draft":
                self.registry.submit_risk_assessment(assessment_id, on=item["assessed_on"])
            self.registry.finalise_risk_assessment(assessment_id, on=item["assessed_on"])

    def supersession(self, item: dict[str, Any]) -> None:
        if "supersedes" not in item:
            return
        old_id = demo_id("risk assessment", item["supersedes"])
        if self.registry.get_risk_assessment(old_id).status == SUPERSEDED:
            return
        with _as(HUMAN_RIGHTS_OFFICER):
            self.registry.supersede_risk_assessment(
                old_id, demo_id("risk assessment", item["key"]), on=item["assessed_on"]
            )

    def decision(self, item: dict[str, Any]) -> None:
        decision_id = demo_id("decision", item["key"])
        partner_id = demo_id("partner", item["org"])
        if not self._exists(self.registry.get_decision, decision_id):
            relied_on = [demo_id("risk assessment", key) for key in item["relies_on"]]
            with _as(item["proposed_by"]):
                self.registry.propose_decision(
                    partner_id,
                    item["scope"],
                    relied_on,
                    on=item["proposed_on"],
                    record_id=decision_id,
                )
            self.report.decisions += 1
            self.progress(f"decision {item['key']}")
        decision = self.registry.get_decision(decision_id)
        if decision.outcome is None:
            with _as(item["decided_by"]):
                self.registry.decide(
                    decision_id,
                    item["outcome"],
                    item["rationale"],
                    conditions=item.get("conditions", ()),
                    review_due=item.get("review_due"),
                    on=item["decided_on"],
                )

    def reviews(self, item: dict[str, Any]) -> None:
        decision_id = demo_id("decision", item["key"])
        done = len(self.registry.get_decision(decision_id).reviews)
        for review in item.get("reviews", ())[done:]:
            with _as(review["by"]):
                self.registry.review_decision(
                    decision_id,
                    review["outcome"],
                    review.get("note", f"Review on {review['reviewed_on']}"),
                    relied_on=[
                        demo_id("risk assessment", key) for key in review.get("relies_on", ())
                    ],
                    on=review["reviewed_on"],
                )
