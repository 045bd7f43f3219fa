"""Which view code runs for which event class: handlers per class, found along the MRO."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from projections.batch import Fact, ViewBatch

Handler = Callable[[ViewBatch, Any, Fact], None]


class EventHandlers:
    """Handlers by event class; an event runs those of its bases first (history before detail)."""

    def __init__(self) -> None:
        self._by_class: dict[type, list[Handler]] = {}
        self._resolved: dict[type, tuple[Handler, ...]] = {}

    def on(self, *event_classes: type) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for event_class in event_classes:
                self._by_class.setdefault(event_class, []).append(handler)
            self._resolved.clear()
            return handler

        return register

    def for_class(self, event_class: type) -> tuple[Handler, ...]:
        found = self._resolved.get(event_class)
        if found is None:
            found = tuple(
                handler
                for klass in reversed(event_class.__mro__)
                for handler in self._by_class.get(klass, ())
            )
            self._resolved[event_class] = found
        return found


HANDLERS = EventHandlers()
"""The registry's views register here (see ``projections.views``)."""
