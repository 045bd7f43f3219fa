"""Query resolvers: each reads through the caller's RegistryReader and builds types from views."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated

import strawberry

from api.graphql import ids
from api.graphql.context import Info
from api.graphql.described import described_field
from api.graphql.inputs import PartnerFilterInput, RiskRegisterFilterInput, period
from api.graphql.types.access_log_entry import AccessLogEntry
from api.graphql.types.decision import Decision
from api.graphql.types.engagement import Engagement
from api.graphql.types.history_event import HistoryEvent
from api.graphql.types.ledger import Checkpoint, ConsistencyProof, InclusionProof
from api.graphql.types.me import Me
from api.graphql.types.page_info import PageInfo
from api.graphql.types.partner import Partner
from api.graphql.types.partner_connection import PartnerConnection, PartnerEdge
from api.graphql.types.risk_assessment import RiskAssessment
from api.graphql.types.risk_register_row import RiskRegisterRow
from api.graphql.types.timeline_connection import TimelineConnection, TimelineEdge
from api.graphql.types.timeline_entry import TimelineEntry
from domain.errors import ValidationError
from projections.queries.partners import MAX_PAGE, count_partners
from projections.queries.timeline import TimelineFilter

DEFAULT_PAGE = 20


def page_size(first: int) -> int:
    """``first`` capped at MAX_PAGE; a negative size is refused."""
    if first < 0:
        raise ValidationError("first", "min", "first must be 0 or more")
    return min(first, MAX_PAGE)


@strawberry.type
class Query:
    @described_field("The caller's identity, role and (for partners) organisation.")
    def me(self, info: Info) -> Me:
        info.context.reader.check("me")
        return Me.from_actor(info.context.actor)

    @described_field("Partners by name, in keyset pages of at most 100.")
    async def partners(
        self,
        info: Info,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
        filter: PartnerFilterInput | None = None,
    ) -> PartnerConnection:
        # Storage reads run in a worker thread, so the event loop keeps serving other requests.
        return await asyncio.to_thread(Query._partners, info, first, after, filter)

    @staticmethod
    def _partners(
        info: Info, first: int, after: str | None, filter: PartnerFilterInput | None
    ) -> PartnerConnection:
        context = info.context
        wanted = (filter or PartnerFilterInput()).to_filter()
        bound = ["partners", asdict(wanted)]
        key = None
        if after is not None:
            opened = context.cursors.open(context.actor, bound, after)
            if len(opened) != 2:
                raise ValidationError("after", "cursor", "not a partners cursor")
            key = (opened[0], opened[1])
        views, page = context.reader.partner_page(wanted, page_size(first), key)
        edges = [
            PartnerEdge(cursor=context.cursors.mint(context.actor, bound, row.key), node=node)
            for row, node in zip(page.rows, (Partner.from_view(v) for v in views), strict=True)
        ]
        total = count_partners(context.reader.store, wanted, scope=context.reader.scope)
        return PartnerConnection(
            edges=edges,
            page_info=PageInfo.of_page([e.cursor for e in edges], page.has_next, after),
            total_count=total,
        )

    @described_field("One partner's record; with asOf, as it was recorded then.")
    async def partner(
        self,
        info: Info,
        id: strawberry.ID,
        as_of: datetime | None = None,
    ) -> Partner:
        partner_id = ids.decode(id, ids.PARTNER)
        view = await asyncio.to_thread(info.context.reader.partner, partner_id, as_of)
        return Partner.from_view(view)

    @described_field("Entries across partners by valid time, then recorded time.")
    async def timeline(
        self,
        info: Info,
        first: int = 50,
        after: str | None = None,
        from_: Annotated[
            str | None, strawberry.argument(name="from", description="YYYY, YYYY-MM or YYYY-MM-DD")
        ] = None,
        to: Annotated[str | None, strawberry.argument(description="inclusive, to its end")] = None,
        kinds: list[str] | None = None,
        partner_ids: list[strawberry.ID] | None = None,
        partner_kinds: list[str] | None = None,
    ) -> TimelineConnection:
        return await asyncio.to_thread(
            Query._timeline, info, first, after, from_, to, kinds, partner_ids, partner_kinds
        )

    @staticmethod
    def _timeline(
        info: Info,
        first: int,
        after: str | None,
        from_: str | None,
        to: str | None,
        kinds: list[str] | None,
        partner_ids: list[strawberry.ID] | None,
        partner_kinds: list[str] | None,
    ) -> TimelineConnection:
        context = info.context
        wanted = TimelineFilter(
            start=period(from_, "from", last=False),
            end=period(to, "to", last=True),
            kinds=tuple(kinds or ()),
            partner_ids=tuple(str(ids.decode(p, ids.PARTNER)) for p in partner_ids or ()),
            partner_kinds=tuple(partner_kinds or ()),
        )
        if context.reader.scope is not None and not set(wanted.partner_ids) <= context.reader.scope:
            raise ids_not_found(wanted.partner_ids, context.reader.scope)
        bound = ["timeline", asdict(wanted)]
        key = None
        if after is not None:
            opened = context.cursors.open(context.actor, bound, after)
            if len(opened) != 3:
                raise ValidationError("after", "cursor", "not a timeline cursor")
            key = (opened[0], opened[1], opened[2])
        page = context.reader.timeline(wanted, page_size(first), key)
        edges = [
            TimelineEdge(
                cursor=context.cursors.mint(context.actor, bound, e.key),
                node=TimelineEntry.from_entry(e),
            )
            for e in page.entries
        ]
        return TimelineConnection(
            edges=edges,
            page_info=PageInfo.of_page([e.cursor for e in edges], page.has_next, after),
        )

    @described_field("A due-diligence decision with what it relied on.")
    async def decision(self, info: Info, id: strawberry.ID) -> Decision:
        decision_id = ids.decode(id, ids.DECISION)
        view = await asyncio.to_thread(info.context.reader.decision, decision_id)
        return Decision.from_view(view)

    @described_field("One engagement.")
    async def engagement(self, info: Info, id: strawberry.ID) -> Engagement:
        engagement_id = ids.decode(id, ids.ENGAGEMENT)
        view = await asyncio.to_thread(info.context.reader.engagement, engagement_id)
        return Engagement.from_view(view)

    @described_field("One risk assessment, now or at a version.")
    async def risk_assessment(
        self,
        info: Info,
        id: strawberry.ID,
        version: int | None = None,
    ) -> RiskAssessment:
        assessment_id = ids.decode(id, ids.RISK_ASSESSMENT)
        view = await asyncio.to_thread(info.context.reader.assessment, assessment_id, version)
        return RiskAssessment.from_view(view)

    @described_field("Current rating, open mitigations, decisions past review.")
    def risk_register(
        self,
        info: Info,
        filter: RiskRegisterFilterInput | None = None,
    ) -> list[RiskRegisterRow]:
        wanted = (filter or RiskRegisterFilterInput()).to_filter()
        return [RiskRegisterRow.from_view(r) for r in info.context.reader.risk_register(wanted)]

    @described_field("Every event of one record: who, role, why, version, when.")
    def history(self, info: Info, id: strawberry.ID) -> list[HistoryEvent]:
        _, record_id = ids.decode_record(id)
        return [HistoryEvent.from_event(e) for e in info.context.reader.history(record_id)]

    @described_field("Who read a partner's record, when and how (human rights officers only).")
    async def access_log(
        self,
        info: Info,
        partner_id: strawberry.ID,
        from_: Annotated[
            date | None, strawberry.argument(name="from", description="first UTC day, inclusive")
        ] = None,
        to: Annotated[
            date | None, strawberry.argument(description="last UTC day, inclusive")
        ] = None,
        first: Annotated[
            int, strawberry.argument(description="at most this many, oldest first (cap 10000)")
        ] = 1000,
    ) -> list[AccessLogEntry]:
        reader = info.context.reader
        reader.check("accessLog")
        partner = ids.decode(partner_id, ids.PARTNER)
        if first < 0:
            raise ValidationError("first", "min", "first must be 0 or more")
        found = await asyncio.to_thread(reader.access_log, partner, from_, to, first)
        return [AccessLogEntry.from_entry(e) for e in found]

    @described_field("The audit ledger's latest signed checkpoint (null before the first).")
    async def checkpoint(self, info: Info) -> Checkpoint | None:
        reader = info.context.reader
        reader.check("checkpoint")

        def load() -> Checkpoint | None:
            found = reader.checkpoint()
            return None if found is None else Checkpoint.from_stored(found, reader.verifier_key())

        return await asyncio.to_thread(load)

    @described_field("Proof that an event (a history or timeline event id) is in the ledger.")
    async def inclusion_proof(
        self,
        info: Info,
        event_id: strawberry.ID,
        tree_size: Annotated[
            int | None, strawberry.argument(description="a signed checkpoint's size (latest)")
        ] = None,
    ) -> InclusionProof:
        reader = info.context.reader
        reader.check("inclusionProof")
        record_id, version = ids.decode_event(event_id)

        def load() -> InclusionProof:
            proven = reader.inclusion_proof(record_id, version, tree_size)
            return InclusionProof.from_proven(proven, reader.verifier_key())

        return await asyncio.to_thread(load)

    @described_field("Proof that the ledger of fromSize leaves is a prefix of toSize's.")
    async def consistency_proof(
        self,
        info: Info,
        from_size: int,
        to_size: Annotated[
            int | None, strawberry.argument(description="default: the latest checkpoint's size")
        ] = None,
    ) -> ConsistencyProof:
        reader = info.context.reader
        reader.check("consistencyProof")

        def load() -> ConsistencyProof:
            proven = reader.consistency_proof(from_size, to_size)
            return ConsistencyProof.from_proven(proven, reader.verifier_key())

        return await asyncio.to_thread(load)


def ids_not_found(wanted: tuple[str, ...], scope: frozenset[str]) -> Exception:
    from domain.errors import NotFound

    outside = sorted(set(wanted) - scope)
    return NotFound("partner", ids.encode(ids.PARTNER, outside[0]))
