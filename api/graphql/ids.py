"""Opaque, typed global ids: base64 of "Type:id"; an id of the wrong type is not found."""

from __future__ import annotations

import base64
import binascii
import re
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
EVENT = "Event"
EVENT_TYPES = (EVENT, TIMELINE_ENTRY)
"""Both name one stored event by "<record uuid>:<version>"."""
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


_RAW_EVENT = re.compile(r"^([0-9a-fA-F-]{32,36}):([0-9]{1,18})$")


def event_id(record_id: object, version: int) -> str:
    """The global id of one stored event (version ``version`` of record ``record_id``)."""
    return encode(EVENT, f"{record_id}:{version}")


def decode_event(value: str) -> tuple[UUID, int]:
    """(record id, version) from an Event or TimelineEntry global id, or a raw
    "<record uuid>:<version>" (as in exports); NOT_FOUND otherwise."""
    raw = _RAW_EVENT.match(value.strip())
    if raw is None:
        type_name, text = split(value)
        raw = _RAW_EVENT.match(text) if type_name in EVENT_TYPES else None
    if raw is None:
        raise NotFound("event", value)
    try:
        return UUID(raw.group(1)), int(raw.group(2))
    except ValueError:
        raise NotFound("event", value) from None
