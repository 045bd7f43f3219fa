"""Which view code runs for which event class: handlers per class, found along the MRO."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from projections.batch import Fact, ViewBatch

Handler = Callable[[ViewBatch, Any, Fact], None]

_STORED_ELSEWHERE = frozenset(("originator_id", "originator_version"))
"""Fields of every event that its stored payload does not hold (the row does; see ``Fact``)."""


class EventHandlers:
    """Handlers by event class; an event runs those of its bases first (history before detail).

    A handler says which of the event's attributes it reads with ``reads``: None (the default)
    for the whole event, a tuple of field names otherwise, ``()`` for none at all (it reads
    only the ``Fact`` and the event's class). A rebuild decodes only what an event's handlers
    read together (``attributes_read``): the others see an instance of the event's class that
    holds just those attributes, decoded as the mapper decodes them.
    """

    def __init__(self) -> None:
        self._by_class: dict[type, list[tuple[Handler, frozenset[str] | None]]] = {}
        self._resolved: dict[type, tuple[Handler, ...]] = {}
        self._reads: dict[type, frozenset[str] | None] = {}

    def on(
        self, *event_classes: type, reads: Iterable[str] | None = None
    ) -> Callable[[Handler], Handler]:
        """Register a handler of these classes (and their subclasses) reading ``reads``.

        Raises ValueError at once when a name in ``reads`` is not a field every one of the
        classes stores (a typo would otherwise only show in a rebuild).
        """
        names = None if reads is None else frozenset(reads)
        if names is not None:
            for event_class in event_classes:
                missing = sorted(names - _stored_fields(event_class))
                if missing:
                    raise ValueError(
                        f"{event_class.__qualname__} stores no field {', '.join(missing)}"
                    )

        def register(handler: Handler) -> Handler:
            for event_class in event_classes:
                self._by_class.setdefault(event_class, []).append((handler, names))
            self._resolved.clear()
            self._reads.clear()
            return handler

        return register

    def _along_mro(self, event_class: type) -> list[tuple[Handler, frozenset[str] | None]]:
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

    def attributes_read(self, event_class: type) -> frozenset[str] | None:
        """The attributes the handlers of ``event_class`` read, together; None: all of them."""
        if event_class in self._reads:
            return self._reads[event_class]
        found: frozenset[str] | None = frozenset()
        for _, names in self._along_mro(event_class):
            found = None if names is None or found is None else found | names
        self._reads[event_class] = found
        return found

    def reads_event(self, event_class: type) -> bool:
        """Whether any handler of ``event_class`` reads more of the event than its ``Fact``."""
        return self.attributes_read(event_class) != frozenset()


def _stored_fields(event_class: type) -> frozenset[str]:
    """Names of the fields an event of this class stores in its payload."""
    if not dataclasses.is_dataclass(event_class):
        return frozenset()
    return frozenset(f.name for f in dataclasses.fields(event_class)) - _STORED_ELSEWHERE


HANDLERS = EventHandlers()
"""The registry's views register here (see ``projections.views``)."""
