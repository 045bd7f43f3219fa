"""Access-log view: one row per read of a partner's record, for ``accessLog(partnerId, from, to)``."""

from __future__ import annotations

from domain.access_log import AccessLog
from projections.batch import Appends, Fact
from projections.handlers import HANDLERS


@HANDLERS.on(AccessLog.ReadsRecorded, reads=("reads",), appends_only=True)
def record_reads(batch: Appends, event: AccessLog.ReadsRecorded, fact: Fact) -> None:
    for entry, read in enumerate(event.reads):
        batch.append(
            "view_access_log",
            {
                "record_id": fact.record_id,
                "version": fact.version,
                "entry": entry,
                "partner_id": read["partner_id"],
                "read_at": read["read_at"],
                "actor_id": read["actor_id"],
                "actor_role": read["actor_role"],
                "operation": read["operation"],
                "position": fact.position,
            },
        )
