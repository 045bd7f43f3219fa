"""PageInfo: Relay page information for keyset connections."""

from __future__ import annotations

import strawberry


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of_page(cls, cursors: list[str], has_next: bool, after: str | None) -> PageInfo:
        """The Relay page info of a keyset page whose edges carry ``cursors``."""
        return cls(
            has_next_page=has_next,
            has_previous_page=after is not None,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )
