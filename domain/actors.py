"""Who acts: the acting user is taken from context and stamped on every event."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from domain.errors import MissingActor, ValidationError

RECORDER = "recorder"
HUMAN_RIGHTS_OFFICER = "human_rights_officer"
EVALUATOR = "evaluator"
PARTNER = "partner"
ADMIN = "admin"
SYSTEM = "system"
ROLES = frozenset({RECORDER, HUMAN_RIGHTS_OFFICER, EVALUATOR, PARTNER, ADMIN, SYSTEM})


@dataclass(frozen=True)
class Actor:
    """An authenticated user (or the registry itself) and the role they act in."""

    subject_id: str
    role: str
    organisation_id: str | None = None

    def __post_init__(self) -> None:
        if not self.subject_id.strip():
            raise ValidationError("actor.subject_id", "required", "an actor needs a subject id")
        if self.role not in ROLES:
            raise ValidationError(
                "actor.role", "vocabulary", f"unknown role {self.role!r}; one of {sorted(ROLES)}"
            )


_current: ContextVar[Actor | None] = ContextVar("registry_actor", default=None)


def current_actor() -> Actor:
    """The user on whose behalf the current command runs."""
    actor = _current.get()
    if actor is None:
        raise MissingActor("no acting user: wrap the command in `acting_as(actor)`")
    return actor


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Run commands on behalf of ``actor``; nested uses restore the outer actor."""
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)
