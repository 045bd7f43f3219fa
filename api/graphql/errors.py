"""Typed GraphQL errors: extensions.code (+ field, rule); anything unexpected masked as INTERNAL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension

from api.hardening import current_request_id
from domain.errors import RegistryError, ValidationError
from projections.follower import is_storage_outage

log = logging.getLogger(__name__)

INTERNAL = "INTERNAL"
UNAVAILABLE = "UNAVAILABLE"
CODES = frozenset(
    {"VALIDATION", "NOT_FOUND", "CONFLICT", "FORBIDDEN", "RULE_VIOLATION", UNAVAILABLE}
)
STORAGE_UNAVAILABLE = (
    "the registry's storage is unavailable right now; try again in a moment (if this was a "
    "change, look it up before repeating it: it may or may not have been recorded)"
)


class ViewsBehindError(RegistryError):
    """The change was recorded, but the read models did not include it in time."""

    code = UNAVAILABLE

    def __init__(self, position: int, timeout: float) -> None:
        super().__init__(
            f"recorded (log position {position}), but the read models have not caught up "
            f"within {timeout:g} s; do not repeat the change, query again shortly"
        )
        self.position = position


def registry_error_extensions(error: RegistryError) -> dict[str, Any]:
    """code, and field and rule where the domain names them."""
    extensions: dict[str, Any] = {"code": error.code if error.code in CODES else INTERNAL}
    if isinstance(error, ViewsBehindError):
        extensions.update(recorded=True, position=error.position)
    field = getattr(error, "field", None)
    rule = getattr(error, "rule", None)
    if field is not None:
        extensions["field"] = _graphql_field(field)
    if rule is not None:
        extensions["rule"] = rule
    return extensions


def is_request_error(error: GraphQLError) -> bool:
    """Raised before any field ran (no path): the document or its variables are wrong, e.g. a
    null for a non-null variable, an Int beyond 32 bits, a Date that is no date."""
    return error.path is None


def _graphql_field(field: str) -> str:
    """snake_case domain field names as the API spells them (camelCase)."""
    head, *rest = field.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class TypedErrors(SchemaExtension):
    """Rewrites every error of a result: domain errors keep their code; the rest are masked."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [self._typed(e) for e in errors]

    def _typed(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, RegistryError) and original.code in CODES:
            return GraphQLError(
                original.message if not isinstance(original, ValidationError) else str(original),
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions=registry_error_extensions(original),
            )
        if original is None or isinstance(original, GraphQLError) or is_request_error(error):
            # The query itself is wrong (syntax, unknown field, bad variable): say so as is.
            extensions = dict(error.extensions or {})
            wrong_query = original is None or is_request_error(error)
            extensions.setdefault("code", "VALIDATION" if wrong_query else INTERNAL)
            return GraphQLError(
                error.message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions=extensions,
            )
        request_id = current_request_id()
        if is_storage_outage(original):
            log.warning("storage unavailable, request id %s: %s", request_id, original)
            return GraphQLError(
                STORAGE_UNAVAILABLE,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions={"code": UNAVAILABLE, "requestId": request_id},
            )
        log.error("internal error, request id %s", request_id, exc_info=original)
        return GraphQLError(
            f"internal error; quote request id {request_id} to the registry's operators",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": INTERNAL, "requestId": request_id},
        )
