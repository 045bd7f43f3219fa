"""AccessLog: who read which partner's record, when and through which operation, as events.

One stream per (recording process, UTC day); each flush of the read buffer appends one event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.errors import ValidationError
from domain.recorded import RegistryAggregate
from domain.valid_time import ValidTime

READ_FIELDS = ("read_at", "actor_id", "actor_role", "operation", "partner_id")
"""Keys of one read entry: ISO UTC instant, reader's subject id and role, operation, partner."""


@dataclass(frozen=True)
class Read:
    """One read of one partner's record."""

    read_at: str
    actor_id: str
    actor_role: str
    operation: str
    partner_id: str

    def as_entry(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in READ_FIELDS}


class AccessLog(RegistryAggregate):
    """A day's reads recorded by one process; written only by the registry (role ``system``)."""

    # State is set by the events' apply methods; annotated for type checkers only.
    if TYPE_CHECKING:
        day: date
        read_count: int

    class Opened(RegistryAggregate.Created):
        def apply(self, aggregate: Any) -> None:
            aggregate.day = self.valid_time.start
            aggregate.read_count = 0

    class ReadsRecorded(RegistryAggregate.Event):
        # Plain JSON (list of dicts of str): one entry per (read, partner), keys READ_FIELDS.
        reads: list[dict[str, str]]

        def apply(self, aggregate: Any) -> None:
            aggregate.read_count += len(self.reads)

    @classmethod
    def open(cls, day: date) -> AccessLog:
        return cls._create(cls.Opened, valid_time=ValidTime.on(day))

    def record_reads(self, reads: Sequence[Read]) -> None:
        if not reads:
            raise ValidationError(
                "reads", "required", "an access log entry needs at least one read"
            )
        for index, read in enumerate(reads):
            if not (read.actor_id and read.operation and read.partner_id and read.read_at):
                raise ValidationError(
                    f"reads[{index}]", "required", "who, what and when are required"
                )
            if read.read_at[:10] != self.day.isoformat():
                raise ValidationError(
                    f"reads[{index}].read_at",
                    "day",
                    f"a read on {read.read_at[:10]} belongs to another day's log",
                )
        self.trigger_event(
            self.ReadsRecorded,
            reads=[read.as_entry() for read in reads],
            valid_time=ValidTime.on(self.day),
        )
