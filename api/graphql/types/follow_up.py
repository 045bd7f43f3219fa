"""FollowUp: an action agreed at an engagement, its owner, due date and whether it is done."""

from __future__ import annotations

from datetime import date

import strawberry

from api.graphql import ids
from api.graphql.types.valid_time import ValidTime
from api.views import FollowUpView


@strawberry.type
class FollowUp:
    id: strawberry.ID
    action: str
    owner: str
    due: date | None
    done: bool
    done_on: ValidTime | None

    @classmethod
    def from_view(cls, view: FollowUpView) -> FollowUp:
        return cls(
            id=strawberry.ID(ids.encode(ids.FOLLOW_UP, view.follow_up_id)),
            action=view.action,
            owner=view.owner,
            due=view.due,
            done=view.done,
            done_on=ValidTime.from_optional(view.done_on),
        )
