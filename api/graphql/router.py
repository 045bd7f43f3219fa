"""Mounts the schema on FastAPI at /graphql (GraphiQL only in development)."""

from __future__ import annotations

import strawberry
from fastapi import FastAPI
from strawberry.fastapi import GraphQLRouter

from api.graphql.context import get_context
from api.graphql.schema import schema as default_schema
from api.settings import Settings


def graphql_router(settings: Settings, schema: strawberry.Schema | None = None) -> GraphQLRouter:
    return GraphQLRouter(
        schema or default_schema,
        context_getter=get_context,
        graphql_ide="graphiql" if settings.is_development else None,
        allow_queries_via_get=False,
    )


def mount_graphql(
    app: FastAPI, settings: Settings, schema: strawberry.Schema | None = None
) -> None:
    app.include_router(graphql_router(settings, schema), prefix="/graphql")
