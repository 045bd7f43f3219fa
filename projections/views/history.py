"""History view: every event of every record, with actor, role, reason, version and both clocks."""

from __future__ import annotations

from typing import Any

from domain.recorded import RegistryAggregate
from projections.batch import Appends, Fact
from projections.handlers import HANDLERS

COLUMNS = Fact._fields[:12]
"""The history's columns: the fact's first twelve fields, by name and in order (record id to
valid precision), so a row is a slice of the fact."""


@HANDLERS.on(RegistryAggregate.Event, reads=(), appends_only=True)
def record_history(batch: Appends, event: Any, fact: Fact) -> None:  # noqa: ARG001
    batch.append_values("view_history", COLUMNS, fact[:12])
