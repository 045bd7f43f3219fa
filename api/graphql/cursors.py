"""Opaque keyset cursors, signed for one caller and one filter: any other use is refused."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any

from domain.actors import Actor
from domain.errors import ValidationError


class CursorSigner:
    """Mints and opens cursors with a key derived from the master key (shared by API processes)."""

    def __init__(self, master_key: bytes) -> None:
        self._key = hmac.new(master_key, b"partnership-registry/cursor/v1", hashlib.sha256).digest()

    def _mac(self, actor: Actor, context: Any, payload: str) -> str:
        bound = json.dumps(
            [actor.subject_id, actor.role, actor.organisation_id, context, payload],
            sort_keys=True,
            default=str,
        )
        return hmac.new(self._key, bound.encode(), hashlib.sha256).hexdigest()[:32]

    def mint(self, actor: Actor, context: Any, key: Sequence[str]) -> str:
        payload = json.dumps(list(key))
        token = json.dumps([payload, self._mac(actor, context, payload)])
        return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")

    def open(self, actor: Actor, context: Any, cursor: str) -> tuple[str, ...]:
        """The keyset position inside ``cursor``; VALIDATION when it is not this caller's."""
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            payload, mac = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            key = json.loads(payload)
        except (binascii.Error, UnicodeError, ValueError, TypeError):
            raise ValidationError("after", "cursor", "not a cursor this API issued") from None
        if not isinstance(mac, str) or not hmac.compare_digest(
            mac, self._mac(actor, context, payload)
        ):
            raise ValidationError(
                "after",
                "cursor",
                "this cursor was issued for another caller or another filter; "
                "start again without `after`",
            )
        if not isinstance(key, list) or not all(isinstance(k, str) for k in key):
            raise ValidationError("after", "cursor", "not a cursor this API issued")
        return tuple(key)
