"""Typed domain errors: each names the field or rule at fault so a person can act on it."""

# Names are a shared contract (the API maps them to error codes), hence no "Error" suffix.
# ruff: noqa: N818

from __future__ import annotations


class RegistryError(Exception):
    """Base class of every error the registry reports to a caller."""

    code = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(RegistryError):
    """Input is malformed: unknown vocabulary, out-of-range number, bad date, oversize text."""

    code = "VALIDATION"

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.rule = rule


class RuleViolation(RegistryError):
    """Input is well formed but a rule of the registry (DOMAIN.md) forbids the change."""

    code = "RULE_VIOLATION"

    def __init__(self, rule: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.field = field


class NotFound(RegistryError):
    """No record of that kind has that id (or the caller may not know it exists)."""

    code = "NOT_FOUND"

    def __init__(self, kind: str, record_id: object) -> None:
        super().__init__(f"no {kind} with id {record_id}")
        self.kind = kind
        self.record_id = str(record_id)


class Conflict(RegistryError):
    """Somebody else changed the record first; reload it and try again."""

    code = "CONFLICT"


class Forbidden(RegistryError):
    """The acting user's role may not do this."""

    code = "FORBIDDEN"


class MissingActor(RegistryError):
    """A command ran without an acting user: every event must say who."""

    code = "FORBIDDEN"
