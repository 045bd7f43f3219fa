"""Input checks aggregates apply before they record anything: text, numbers, dates, reasons."""

from __future__ import annotations

import re
from datetime import date

from domain.errors import ValidationError
from domain.valid_time import ValidTime

NAME_LIMIT = 300
TITLE_LIMIT = 500
SHORT_TEXT_LIMIT = 1_000
REASON_LIMIT = 5_000
LONG_TEXT_LIMIT = 20_000
LIST_LIMIT = 200

_COUNTRY = re.compile(r"^[A-Z]{2}$")

When = ValidTime | date | str | None


def check_text(field: str, value: str, limit: int, *, required: bool = False) -> str:
    """``value`` stripped; ValidationError when required and empty or when longer than limit."""
    if not isinstance(value, str):
        raise ValidationError(field, "type", "must be text")
    text = value.strip()
    if required and not text:
        raise ValidationError(field, "required", "must not be empty")
    if len(text) > limit:
        raise ValidationError(field, "max_length", f"at most {limit} characters, got {len(text)}")
    return text


def check_reason(reason: str | None, field: str = "reason") -> str:
    """A reason is required for decisions, corrections, overrides, suspensions and erasure."""
    return check_text(field, reason or "", REASON_LIMIT, required=True)


def check_texts(field: str, values: list[str] | tuple[str, ...], limit: int) -> tuple[str, ...]:
    """Each non-empty text of ``values``, stripped; at most LIST_LIMIT of them."""
    if len(values) > LIST_LIMIT:
        raise ValidationError(field, "max_items", f"at most {LIST_LIMIT} items")
    return tuple(check_text(f"{field}[{i}]", v, limit, required=True) for i, v in enumerate(values))


def check_scale(field: str, value: int) -> int:
    """A whole number from 1 to 5 (likelihood, impact, interest, influence)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValidationError(
            field, "range_1_5", f"must be a whole number from 1 to 5, got {value!r}"
        )
    return value


def check_count(field: str, value: int | None) -> int | None:
    """A count of people: absent, or a whole number from zero up."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(field, "non_negative", f"must be a whole number >= 0, got {value!r}")
    return value


def check_country(field: str, value: str) -> str:
    """An ISO 3166-1 alpha-2 code by shape (two capital letters)."""
    code = value.strip().upper() if isinstance(value, str) else ""
    if not _COUNTRY.match(code):
        raise ValidationError(
            field, "iso3166_alpha2", f"{value!r} is not a two-letter country code"
        )
    return code


def valid_time(value: When, field: str = "valid_time", *, today: date | None = None) -> ValidTime:
    """When something happened: a ValidTime, a date or text; None means today. Never the future."""
    today = today or date.today()
    if value is None:
        found = ValidTime.on(today)
    elif isinstance(value, ValidTime):
        found = value
    elif isinstance(value, date):
        found = ValidTime.on(value)
    elif isinstance(value, str):
        found = ValidTime.parse(value, field=field)
    else:
        raise ValidationError(field, "date", f"{value!r} is not a date")
    if found.start > today:
        raise ValidationError(field, "not_in_future", f"{found} is in the future")
    return found


def due_date(value: date | str | None, field: str, *, required: bool = False) -> date | None:
    """A due date (follow-ups, mitigations, reviews): may lie in the future."""
    if value is None:
        if required:
            raise ValidationError(field, "required", "a date is required")
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError as error:
            raise ValidationError(field, "date", f"{value!r} is not a date (YYYY-MM-DD)") from error
    raise ValidationError(field, "date", f"{value!r} is not a date")
