"""PartnerConnection: a keyset page of partners (Relay connection)."""

from __future__ import annotations

import strawberry

from api.graphql.types.page_info import PageInfo
from api.graphql.types.partner import Partner


@strawberry.type
class PartnerEdge:
    cursor: str
    node: Partner


@strawberry.type
class PartnerConnection:
    edges: list[PartnerEdge]
    page_info: PageInfo
    total_count: int
