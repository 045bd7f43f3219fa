"""Which view code runs for which event class: handlers per class, found along the MRO."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, cast

from projections.batch import Appends, Fact, ViewBatch

Handler = Callable[[ViewBatch, Any, Fact], None]
Appending = Callable[[Appends, Any, Fact], None]
"""A handler registered ``appends_only``: it is given only what ``Appends`` offers."""

_STORED_ELSEWHERE = frozenset(("originator_id", "originator_version"))
"""Fields of every event that its stored payload does not hold (the row does; see ``Fact``)."""


class EventHandlers:
    """Handlers by event class; an event runs those of its bases first (history before detail).

    A handler says which of the event's attributes it reads with ``reads``: None (the default)
    for the whole event, a tuple of field names otherwise, ``()`` for none at all (it reads
    only the ``Fact`` and the event's class). A rebuild decodes only what an event's handlers
    read together (``attributes_read``): the others see an instance of the event's class that
    holds just those attributes, decoded as the mapper decodes them.

    A handler registered with ``appends_only=True`` does nothing but ``append`` rows and
    ``touch`` records (``projections.batch.Appends``), whose order in a batch does not matter,
    and reads nothing the views hold: a rebuild's reader process runs it (``appending``) and
    the writer runs the others (``others``).
    """

    def __init__(self) -> None:
        self._by_class: dict[type, list[_Registered]] = {}
        self._resolved: dict[type, tuple[Handler, ...]] = {}
        self._split: dict[type, tuple[tuple[Appending, ...], tuple[Handler, ...]]] = {}
        self._reads: dict[type, frozenset[str] | None] = {}

    def on(
        self,
        *event_classes: type,
        reads: Iterable[str] | None = None,
        appends_only: bool = False,
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
                self._by_class.setdefault(event_class, []).append(
                    _Registered(handler, names, appends_only)
                )
            self._resolved.clear()
            self._split.clear()
            self._reads.clear()
            return handler

        return register

    def _along_mro(self, event_class: type) -> list[_Registered]:
        return [
            found
            for klass in reversed(event_class.__mro__)
            for found in self._by_class.get(klass, ())
        ]

    def for_class(self, event_class: type) -> tuple[Handler, ...]:
        """Every handler of ``event_class``, in the order they run."""
        found = self._resolved.get(event_class)
        if found is None:
            found = tuple(registered.handler for registered in self._along_mro(event_class))
            self._resolved[event_class] = found
        return found

    def appending(self, event_class: type) -> tuple[Appending, ...]:
        """The handlers of ``event_class`` registered ``appends_only``, in order."""
        return self._parts(event_class)[0]

    def others(self, event_class: type) -> tuple[Handler, ...]:
        """The handlers of ``event_class`` not registered ``appends_only``, in order."""
        return self._parts(event_class)[1]

    def _parts(self, event_class: type) -> tuple[tuple[Appending, ...], tuple[Handler, ...]]:
        found = self._split.get(event_class)
        if found is None:
            registered = self._along_mro(event_class)
            found = self._split[event_class] = (
                # Registered appends_only: they call only what Appends offers.
                tuple(cast("Appending", r.handler) for r in registered if r.appends_only),
                tuple(r.handler for r in registered if not r.appends_only),
            )
        return found

    def attributes_read(self, event_class: type) -> frozenset[str] | None:
        """The attributes the handlers of ``event_class`` read, together; None: all of them."""
        if event_class in self._reads:
            return self._reads[event_class]
        found: frozenset[str] | None = frozenset()
        for registered in self._along_mro(event_class):
            names = registered.reads
            found = None if names is None or found is None else found | names
        self._reads[event_class] = found
        return found

    def reads_event(self, event_class: type) -> bool:
        """Whether any handler of ``event_class`` reads more of the event than its ``Fact``."""
        return self.attributes_read(event_class) != frozenset()


class _Registered(NamedTuple):
    handler: Handler
    reads: frozenset[str] | None
    appends_only: bool


def _stored_fields(event_class: type) -> frozenset[str]:
    """Names of the fields an event of this class stores in its payload."""
    if not dataclasses.is_dataclass(event_class):
        return frozenset()
    return frozenset(f.name for f in dataclasses.fields(event_class)) - _STORED_ELSEWHERE


HANDLERS = EventHandlers()
"""The registry's views register here (see ``projections.views``)."""
