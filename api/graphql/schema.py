"""The schema: queries, one mutation per registry command, typed errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.types import ExecutionContext

from api.graphql.errors import TypedErrors
from api.graphql.execution import PlainFieldExecutionContext
from api.graphql.mutations import Mutation
from api.graphql.queries import Query
from domain.errors import RegistryError


class RegistrySchema(strawberry.Schema):
    """Logs unexpected errors only: a refused command is an answer, not an incident."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        unexpected = [e for e in errors if not isinstance(e.original_error, RegistryError)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema(
    extensions: Sequence[type[SchemaExtension] | Callable[[], SchemaExtension]] = (),
) -> strawberry.Schema:
    """The registry's schema; ``extensions`` lets production hardening add its limits.

    They are listed after ``TypedErrors`` so their ``on_operation`` exits run first: internal
    errors are masked with the request id of ``X-Request-ID`` before typing.
    """
    # Parsing and validating the same document again on every request is wasted work: cache both.
    return RegistrySchema(
        query=Query,
        mutation=Mutation,
        extensions=[
            TypedErrors,
            *extensions,
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
        ],
        execution_context_class=PlainFieldExecutionContext,
    )


schema = build_schema()
