"""Factories that tell their application recorder of the snapshots' recorder.

``SQLiteEventRecorder`` and ``PostgresEventRecorder`` record a save's snapshots in the
transaction of its events (``insert_events(events, snapshots=[...])``) through the snapshots'
own recorder; the application creates the two recorders apart, so the factory links them.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
)


class LinksSnapshots(InfrastructureFactory[Any]):
    """Put before the library's factory class: links the application recorder (when it has a
    ``snapshots_recorder``) and the snapshots' recorder, in whichever order they are made."""

    _application: ApplicationRecorder | None = None
    _snapshots: AggregateRecorder | None = None

    def application_recorder(self) -> ApplicationRecorder:
        # A mixin: super() is the library's concrete factory, placed after this class.
        self._application = super().application_recorder()  # type: ignore[safe-super]
        self._link()
        return self._application

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        recorder = super().aggregate_recorder(purpose)  # type: ignore[safe-super]
        if purpose == "snapshots":
            self._snapshots = recorder
            self._link()
        return recorder

    def _link(self) -> None:
        """Only when both use one datastore (one transaction can hold both inserts)."""
        application, snapshots = self._application, self._snapshots
        if (
            application is not None
            and snapshots is not None
            and hasattr(application, "snapshots_recorder")
            and getattr(snapshots, "datastore", None) is getattr(application, "datastore", None)
        ):
            application.snapshots_recorder = snapshots
