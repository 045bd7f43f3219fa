"""Typed forms of Strawberry's described field and mutation decorators (for mypy --strict)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import strawberry

F = TypeVar("F", bound=Callable[..., Any])


def described_field(description: str) -> Callable[[F], F]:
    return cast(Callable[[F], F], strawberry.field(description=description))


def described_mutation(description: str) -> Callable[[F], F]:
    return cast(Callable[[F], F], strawberry.mutation(description=description))
