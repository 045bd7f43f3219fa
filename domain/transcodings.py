"""How the value objects inside events and snapshots are written as JSON, and read back exactly."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.decision import Communication, ReliedOn, Review
from domain.engagement import (
    EngagementDetails,
    EngagementPartner,
    FollowUp,
    Participants,
    Statement,
)
from domain.partner import ActorMapping, Profile, Relationship
from domain.personal_data import PersonalData
from domain.risk_assessment import Mitigation, Risk
from domain.valid_time import ValidTime


class ValidTimeAsText(Transcoding):
    """Text such as 2020, 2020-03 or 2020-03-14: the form says the precision."""

    type = ValidTime
    name = "valid_time"

    def encode(self, obj: ValidTime) -> str:
        return str(obj)

    def decode(self, data: str) -> ValidTime:
        return ValidTime.parse(data)


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class PersonalDataAsDict(Transcoding):
    """Personal data as one plain dict; the security layer replaces this with a sealing one."""

    type = PersonalData
    name = "personal_data"

    def encode(self, obj: PersonalData) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}

    def decode(self, data: dict[str, Any]) -> PersonalData:
        return PersonalData(**data)


class DataclassAsDict(Transcoding):
    """A frozen dataclass as a dict of its fields; lists are read back as the tuples stored."""

    def __init__(self, cls: type[Any], name: str) -> None:
        self.type = cls
        self.name = name
        fields = dataclasses.fields(cls)
        self.dataclass_fields = tuple(f.name for f in fields)
        """``encode`` returns exactly these attributes, in this order (an encoder may inline it)."""
        self._tuple_fields = frozenset(f.name for f in fields if str(f.type).startswith("tuple"))

    def encode(self, obj: Any) -> dict[str, Any]:
        return {name: getattr(obj, name) for name in self.dataclass_fields}

    def decode(self, data: dict[str, Any]) -> Any:
        if self._tuple_fields:
            data = {k: tuple(v) if k in self._tuple_fields else v for k, v in data.items()}
        return self.type(**data)


VALUE_OBJECTS: dict[str, type[Any]] = {
    "partner_profile": Profile,
    "partner_relationship": Relationship,
    "partner_actor_mapping": ActorMapping,
    "engagement_partner": EngagementPartner,
    "engagement_participants": Participants,
    "engagement_statement": Statement,
    "engagement_follow_up": FollowUp,
    "engagement_details": EngagementDetails,
    "risk": Risk,
    "risk_mitigation": Mitigation,
    "decision_relied_on": ReliedOn,
    "decision_communication": Communication,
    "decision_review": Review,
}


def register_domain_transcodings(transcoder: JSONTranscoder) -> None:
    """Register every value object the domain puts into events or aggregate state."""
    transcoder.register(ValidTimeAsText())
    transcoder.register(DateAsISO())
    transcoder.register(PersonalDataAsDict())
    for name, cls in VALUE_OBJECTS.items():
        transcoder.register(DataclassAsDict(cls, name))
