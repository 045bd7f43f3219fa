"""The base of every aggregate: each event says who acted, when it happened, and why."""

from __future__ import annotations

from datetime import date
from typing import Any, Self

from eventsourcing.domain import Aggregate, CanInitAggregate

from domain.actors import current_actor
from domain.valid_time import ValidTime


class RegistryAggregate(Aggregate):
    """An aggregate whose events carry the acting user, the valid time and a reason.

    The library stamps ``timestamp`` when the event is created inside the registry; that is
    the recorded time, and no command accepts it from a caller. ``valid_time`` is when the
    thing happened, as the caller knows it.
    """

    class Event(Aggregate.Event):
        actor_id: str
        actor_role: str
        valid_time: ValidTime
        reason: str

        @property
        def recorded_at(self) -> Any:
            return self.timestamp

    class Created(Event, Aggregate.Created):
        pass

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        super().trigger_event(event_class, **_stamped(kwargs))

    @classmethod
    def _create(
        cls, event_class: type[CanInitAggregate[Any]], *, id: Any = None, **kwargs: Any
    ) -> Self:
        return super()._create(event_class, id=id, **_stamped(kwargs))


def _stamped(kwargs: dict[str, Any]) -> dict[str, Any]:
    actor = current_actor()
    stamped = dict(kwargs)
    stamped.setdefault("actor_id", actor.subject_id)
    stamped.setdefault("actor_role", actor.role)
    if stamped.get("valid_time") is None:
        stamped["valid_time"] = ValidTime.on(date.today())
    stamped.setdefault("reason", "")
    return stamped
