"""Stable keyed pseudonyms (HMAC-SHA256) for actor ids and persons shown to evaluators.

Not reversible without the key; the key is derived from the master key unless configured.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading

PREFIX = "pseud-"
_DERIVATION_LABEL = b"partnership-registry/pseudonym-key/v1"
_log = logging.getLogger(__name__)


def key_from_master(master_key: bytes) -> bytes:
    """A pseudonym key derived from the master key (one-way: it reveals nothing of the master)."""
    return hmac.new(master_key, _DERIVATION_LABEL, hashlib.sha256).digest()


class Pseudonymiser:
    """Maps a subject to ``pseud-`` + 16 hex characters of HMAC-SHA256(key, subject)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a pseudonym key needs at least 16 bytes")
        self._key = key

    def __call__(self, subject: str) -> str:
        digest = hmac.new(self._key, subject.encode("utf-8"), hashlib.sha256).hexdigest()
        return PREFIX + digest[:16]


_lock = threading.Lock()
_current: Pseudonymiser | None = None


def configure(key: bytes) -> None:
    """Set the process's pseudonym key (done once at startup, from the master key)."""
    global _current
    with _lock:
        _current = Pseudonymiser(key)


def pseudonym(subject: str) -> str:
    """The subject's pseudonym under the configured key.

    Unconfigured (a test or a tool that never called ``configure``), a random key is made for
    the process: privacy holds, only stability across restarts is lost, and a warning says so.
    """
    global _current
    found = _current
    if found is None:
        with _lock:
            if _current is None:
                _log.warning("pseudonym key not configured; using a random per-process key")
                _current = Pseudonymiser(secrets.token_bytes(32))
            found = _current
    return found(subject)
