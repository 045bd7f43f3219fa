"""Statement: something said at an engagement (never attributed under non-attribution)."""

from __future__ import annotations

import strawberry

from api.views import StatementView


@strawberry.type
class Statement:
    text: str
    speaker: str | None

    @classmethod
    def from_view(cls, view: StatementView) -> Statement:
        return cls(text=view.text, speaker=view.speaker)
