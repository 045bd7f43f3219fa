"""Timeline view: one entry per notable event across partners, by valid then recorded time."""

from __future__ import annotations

from collections.abc import Iterable

from projections.batch import Fact, ViewBatch


def add_entry(
    batch: ViewBatch, fact: Fact, kind: str, title: str, partner_ids: Iterable[object]
) -> None:
    """Append the entry for ``fact`` (id = record id ':' version) and the partners it concerns."""
    batch.append(
        "view_timeline",
        {
            "entry_id": fact.entry_id,
            "record_id": fact.record_id,
            "version": fact.version,
            "record_type": fact.record_type,
            "kind": kind,
            "title": title,
            "valid_start": fact.valid_start,
            "valid_end": fact.valid_end,
            "valid_precision": fact.valid_precision,
            "recorded_at": fact.recorded_at,
            "actor_id": fact.actor_id,
            "actor_role": fact.actor_role,
            "reason": fact.reason,
            "recorded_late": int(fact.recorded_late),
            "position": fact.position,
        },
    )
    for partner_id in dict.fromkeys(str(p) for p in partner_ids):
        batch.append(
            "view_timeline_partners", {"entry_id": fact.entry_id, "partner_id": partner_id}
        )
