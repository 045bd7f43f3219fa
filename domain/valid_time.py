"""Valid time: when a thing happened, to the precision the sources give (day, month or year)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from domain.errors import ValidationError

DAY = "day"
MONTH = "month"
YEAR = "year"
PRECISIONS = (DAY, MONTH, YEAR)

_PATTERNS = {
    YEAR: re.compile(r"^(\d{4})$"),
    MONTH: re.compile(r"^(\d{4})-(\d{2})$"),
    DAY: re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"),
}


@dataclass(frozen=True, order=True)
class ValidTime:
    """A date known to a day, a month or a year.

    ``start`` is the first day of the period it names, so "2020" sorts with 2020-01-01 but
    is shown as "2020" and overlaps every day of that year.
    """

    start: date
    precision: str = DAY

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValidationError(
                "precision",
                "vocabulary",
                f"unknown precision {self.precision!r}; one of day, month, year",
            )
        truncated = _truncate(self.start, self.precision)
        if truncated != self.start:
            object.__setattr__(self, "start", truncated)

    @classmethod
    def parse(cls, text: str, precision: str | None = None, field: str = "date") -> ValidTime:
        """Read "2020", "2020-03" or "2020-03-14"; the precision follows from the form."""
        text = text.strip()
        for found_precision, pattern in _PATTERNS.items():
            match = pattern.match(text)
            if match is None:
                continue
            parts = [int(p) for p in match.groups()] + [1, 1]
            try:
                start = date(parts[0], parts[1], parts[2])
            except ValueError as error:
                raise ValidationError(field, "date", f"{text!r} is not a calendar date") from error
            if precision is not None and precision != found_precision:
                if precision not in PRECISIONS:
                    raise ValidationError(
                        f"{field}.precision", "vocabulary", f"unknown precision {precision!r}"
                    )
                raise ValidationError(
                    f"{field}.precision",
                    "precision",
                    f"{text!r} is written to the {found_precision}, not the {precision}",
                )
            return cls(start, found_precision)
        raise ValidationError(
            field, "date", f"{text!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)"
        )

    @classmethod
    def on(cls, day: date) -> ValidTime:
        return cls(day, DAY)

    @property
    def end(self) -> date:
        """The last day of the period."""
        if self.precision == DAY:
            return self.start
        if self.precision == MONTH:
            last = calendar.monthrange(self.start.year, self.start.month)[1]
            return self.start.replace(day=last)
        return date(self.start.year, 12, 31)

    def overlaps(self, first: date | None, last: date | None) -> bool:
        """True when some day of this period lies within [first, last]."""
        return (first is None or self.end >= first) and (last is None or self.start <= last)

    def __str__(self) -> str:
        if self.precision == YEAR:
            return f"{self.start.year:04d}"
        if self.precision == MONTH:
            return f"{self.start.year:04d}-{self.start.month:02d}"
        return self.start.isoformat()


def _truncate(day: date, precision: str) -> date:
    if precision == YEAR:
        return date(day.year, 1, 1)
    if precision == MONTH:
        return date(day.year, day.month, 1)
    return day
