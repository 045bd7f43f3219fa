"""Which view code runs for which event class: handlers per class, found along the MRO."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from projections.batch import Fact, ViewBatch

Handler = Callable[[ViewBatch, Any, Fact], None]


class EventHandlers:
    """Handlers by event class; an event runs those of its bases first (history before detail).

    A handler registered with ``reads_event=False`` reads only the ``Fact`` and the event's
    class: a rebuild hands it an empty instance of the class (no attributes) and, when no
    handler of an event's class reads the event, does not decode the event at all.
    """

    def __init__(self) -> None:
        self._by_class: dict[type, list[tuple[Handler, bool]]] = {}
        self._resolved: dict[type, tuple[Handler, ...]] = {}
        self._reads: dict[type, bool] = {}

    def on(self, *event_classes: type, reads_event: bool = True) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for event_class in event_classes:
                self._by_class.setdefault(event_class, []).append((handler, reads_event))
            self._resolved.clear()
            self._reads.clear()
            return handler

        return register

    def _along_mro(self, event_class: type) -> list[tuple[Handler, bool]]:
        return [
            found
            for klass in reversed(event_class.__mro__)
            for found in self._by_class.get(klass, ())
        ]

    def for_class(self, event_class: type) -> tuple[Handler, ...]:
        found = self._resolved.get(event_class)
        if found is None:
            found = tuple(handler for handler, _ in self._along_mro(event_class))
            self._resolved[event_class] = found
        return found

    def reads_event(self, event_class: type) -> bool:
        """Whether any handler of ``event_class`` reads more of the event than its ``Fact``."""
        found = self._reads.get(event_class)
        if found is None:
            found = any(reads for _, reads in self._along_mro(event_class))
            self._reads[event_class] = found
        return found


HANDLERS = EventHandlers()
"""The registry's views register here (see ``projections.views``)."""
