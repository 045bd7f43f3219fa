"""Opaque, typed global ids: base64 of "Type:id"; an id of the wrong type is not found."""

from __future__ import annotations

import base64
import binascii
from uuid import UUID

from domain.errors import NotFound

PARTNER = "Partner"
ENGAGEMENT = "Engagement"
RISK_ASSESSMENT = "RiskAssessment"
DECISION = "Decision"
CONTACT_PERSON = "ContactPerson"
FOLLOW_UP = "FollowUp"
RISK = "Risk"
MITIGATION = "Mitigation"
TIMELINE_ENTRY = "TimelineEntry"
RECORD_TYPES = (PARTNER, ENGAGEMENT, RISK_ASSESSMENT, DECISION)

KINDS = {
    PARTNER: "partner",
    ENGAGEMENT: "engagement",
    RISK_ASSESSMENT: "risk assessment",
    DECISION: "decision",
    CONTACT_PERSON: "contact person",
    FOLLOW_UP: "follow-up",
    RISK: "risk",
    MITIGATION: "mitigation",
}


def encode(type_name: str, raw_id: object) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{raw_id}".encode()).decode().rstrip("=")


def split(global_id: str) -> tuple[str, str]:
    """(type, raw id) of a global id; NOT_FOUND when it is not one of ours."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise NotFound("record", global_id) from None
    type_name, sep, raw = text.partition(":")
    if not sep or not raw:
        raise NotFound("record", global_id)
    return type_name, raw


def decode(global_id: str, *type_names: str) -> UUID:
    """The uuid inside ``global_id`` when it is of one of ``type_names``; else NOT_FOUND."""
    type_name, raw = split(global_id)
    kind = KINDS.get(type_names[0], "record") if len(type_names) == 1 else "record"
    if type_name not in type_names:
        raise NotFound(kind, global_id)
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound(kind, global_id) from None


def decode_record(global_id: str) -> tuple[str, UUID]:
    """A partner, engagement, risk assessment or decision id, with its type."""
    type_name, _ = split(global_id)
    return type_name, decode(global_id, *RECORD_TYPES)
