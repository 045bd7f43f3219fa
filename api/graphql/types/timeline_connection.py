"""TimelineConnection: a keyset page of timeline entries (Relay connection)."""

from __future__ import annotations

import strawberry

from api.graphql.types.page_info import PageInfo
from api.graphql.types.timeline_entry import TimelineEntry


@strawberry.type
class TimelineEdge:
    cursor: str
    node: TimelineEntry


@strawberry.type
class TimelineConnection:
    edges: list[TimelineEdge]
    page_info: PageInfo
