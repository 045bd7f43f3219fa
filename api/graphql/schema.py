"""The schema: queries, one mutation per registry command, typed errors."""

from __future__ import annotations

from collections.abc import Sequence

import strawberry
from strawberry.extensions import SchemaExtension

from api.graphql.errors import TypedErrors
from api.graphql.mutations import Mutation
from api.graphql.queries import Query


def build_schema(
    extensions: Sequence[type[SchemaExtension] | SchemaExtension] = (),
) -> strawberry.Schema:
    """The registry's schema; ``extensions`` lets production hardening add its limits."""
    return strawberry.Schema(query=Query, mutation=Mutation, extensions=[*extensions, TypedErrors])


schema = build_schema()
