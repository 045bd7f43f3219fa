"""Communication: how and when a decision was communicated to the partner."""

from __future__ import annotations

import strawberry

from api.graphql.types.valid_time import ValidTime
from api.views import CommunicationView


@strawberry.type
class Communication:
    channel: str
    communicated_on: ValidTime
    note: str | None

    @classmethod
    def from_view(cls, view: CommunicationView) -> Communication:
        return cls(
            channel=view.channel,
            communicated_on=ValidTime.from_domain(view.communicated_on),
            note=view.note,
        )
