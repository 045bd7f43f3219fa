"""ValidTime: when something happened, shown to its precision ("2020", "2020-03", "2020-03-14")."""

from __future__ import annotations

from datetime import date

import strawberry

from domain.valid_time import ValidTime as DomainValidTime


@strawberry.type(description="When something happened, as precisely as the sources say.")
class ValidTime:
    text: str = strawberry.field(description='"2020", "2020-03" or "2020-03-14"')
    precision: str = strawberry.field(description="day, month or year")
    start: date = strawberry.field(description="first day of the period")
    end: date = strawberry.field(description="last day of the period")

    @classmethod
    def from_domain(cls, value: DomainValidTime) -> ValidTime:
        return cls(text=str(value), precision=value.precision, start=value.start, end=value.end)

    @classmethod
    def from_optional(cls, value: DomainValidTime | None) -> ValidTime | None:
        return None if value is None else cls.from_domain(value)
