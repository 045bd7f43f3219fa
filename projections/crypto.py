"""Encryption at rest for the views: sealed text columns and a blind index for name search.

The events are encrypted (``security.envelope``); the views beside them must not leak what the
events hide. Every free-text column of every view (names, acronyms, titles, summaries, reasons,
locations, measures, ...; ``projections.schema.SEALED`` lists them) is stored as

    b"\\x01" || nonce (12 random bytes) || AES-256-GCM(padded UTF-8 text) || tag (16 bytes)

with associated data ``b"registry-views/1" 0 table 0 column 0 row id``, so a ciphertext moved to
another table, column or row fails to decrypt (``ViewIntegrityError``). Plaintext is padded to
a multiple of 16 bytes (0x80 then zeros) so ciphertext lengths reveal lengths only coarsely.
Ids, dates, numbers and vocabulary codes (kind, scope, status, rating, country, focus area)
stay in the clear: queries filter and sort on them.

Keys. One data key per upstream application from the registry's key store,
``KeyStore.data_key_for_stream("views:<application name>")`` (the store has no purpose for
views; a stream key with this reserved subject never matches an event's stream id, and the
envelope refuses a key whose subject is not the event's stream). Like every data key it is
wrapped by the master key, so rotating the master key re-wraps it and the views need no
re-encryption. Two sub-keys are derived from it with HKDF-SHA256: one for AES-GCM, one for the
blind index. One ``AESGCM`` object serves every value.

Nonces are random; keep well under 2**32 encryptions per views key (each rebuild re-encrypts
every sealed value once; a registry of a million events can be rebuilt hundreds of times).

Blind index (search). A partner's name, acronym and former names are split into words:
Unicode NFKD, accents (combining marks) removed, case-folded, runs of letters and digits. Each
word is indexed whole, and so is each of its prefixes of 3 to ``MAX_PREFIX`` characters. A
term is stored as HMAC-SHA256(index key, term) truncated to ``TOKEN_SIZE`` bytes; a partner's
tokens are sorted and concatenated in one row of ``view_partner_search``, and a search tests
containment of each query token in that row (``instr`` / ``position``: a scan of a few bytes
per term and partner; one row per partner keeps profile changes to one write). Unaligned or
truncated-HMAC false matches have a probability of about 2**-64 per token position.

A search string is split the same way; a partner matches when it has every query word: a word
of 3 or more characters matches any indexed word starting with it (query words longer than
``MAX_PREFIX`` are cut to ``MAX_PREFIX``, so they match words sharing that prefix), a shorter
word (e.g. the acronym "HD") only an equal word. So search is **word-prefix matching, in any
word order**, no longer arbitrary substring matching: "peace" finds "Peacebuilding Centre",
"femmes paix" finds "Femmes pour la Paix", "ace" no longer finds "Peace". The index reveals
which partners share a word or prefix (equality, and how many terms a partner has), not the
words; testing a guessed name needs the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import threading
import unicodedata
import weakref
from collections.abc import Iterable, Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT = b"\x01"
NONCE_SIZE = 12
PAD_BLOCK = 16
TOKEN_SIZE = 8
MIN_PREFIX = 3
MAX_PREFIX = 20
VIEWS_KEY_PREFIX = "views:"
"""Subject prefix of the views' data key in ``registry_keys`` (a reserved stream subject)."""

_AAD_PREFIX = b"registry-views/1\x00"
_WORD = re.compile(r"[^\W_]+")
_NONCE_POOL = 4096


_PADDING = tuple(b"\x80" + bytes(-(n + 1) % PAD_BLOCK) for n in range(PAD_BLOCK))
"""What follows text of n bytes (mod 16): 0x80, then zeros up to a multiple of 16 bytes."""


_PREFIXES: dict[tuple[str, str], bytes] = {}


def aad_prefix(table: str, column: str) -> bytes:
    """The associated data of a value of ``table.column``, but for the row id at its end."""
    found = _PREFIXES.get((table, column))
    if found is None:
        found = _PREFIXES[table, column] = b"%s%s\x00%s\x00" % (
            _AAD_PREFIX,
            table.encode(),
            column.encode(),
        )
    return found


class ViewIntegrityError(Exception):
    """A sealed view value does not decrypt: wrong key, or moved to another table/column/row."""


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


def words(text: str) -> list[str]:
    """Normalised words of ``text``: NFKD, combining marks removed, case-folded, alphanumeric."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _WORD.findall(stripped.casefold())


def index_terms(texts: Iterable[str]) -> set[str]:
    """What the blind index holds for these texts: every word, and its prefixes of 3+ chars."""
    terms: set[str] = set()
    for text in texts:
        for word in words(text):
            terms.add(word[:MAX_PREFIX])
            for end in range(MIN_PREFIX, min(len(word), MAX_PREFIX) + 1):
                terms.add(word[:end])
    return terms


def query_terms(text: str) -> list[str]:
    """The index terms a search must all match (see the module docstring)."""
    return list(dict.fromkeys(word[:MAX_PREFIX] for word in words(text)))


_CIPHERS: weakref.WeakSet[ViewCipher] = weakref.WeakSet()


def _forget_nonces() -> None:
    """In a forked child: the nonces left in a cipher's pool are the parent's to use; a child
    that sealed with them too would repeat the parent's (key, nonce) pairs."""
    for cipher in list(_CIPHERS):
        cipher._nonces = b""
        cipher._nonce_at = 0
        cipher._nonce_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_nonces)


class ViewCipher:
    """Seals and opens view values, and computes blind-index tokens, under one views key."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) != 32:
            raise ValueError("the views key must be 32 bytes")
        self._aead = AESGCM(_derive(secret, b"registry-views/aes-256-gcm/1"))
        self._index_mac = hmac.new(
            _derive(secret, b"registry-views/blind-index/1"), digestmod=hashlib.sha256
        )
        self._nonces = b""
        self._nonce_at = 0
        self._nonce_lock = threading.Lock()
        _CIPHERS.add(self)

    @classmethod
    def for_application(cls, app: Any) -> ViewCipher:
        """The cipher under ``app``'s views key, from the key store of its envelope mapper."""
        envelope = getattr(getattr(app, "mapper", None), "envelope", None)
        keys = getattr(envelope, "keys", None)
        if keys is None:
            raise TypeError(
                "views need the application's envelope mapper (security.envelope:EnvelopeMapper)"
                " to get their key"
            )
        key = keys.data_key_for_stream(VIEWS_KEY_PREFIX + str(app.name))
        if key.secret is None:
            raise ViewIntegrityError(f"the views key of {app.name} has been destroyed")
        return cls(key.secret)

    # Values.

    def seal(self, table: str, column: str, row_id: str, value: str | None) -> bytes | None:
        """The stored form of ``value`` in ``table.column`` of row ``row_id`` (None stays None)."""
        return self.seal_bound(aad_prefix(table, column), row_id, value)

    def seal_bound(self, prefix: bytes, row_id: str, value: str | None) -> bytes | None:
        """``seal`` with the associated data's prefix given (``aad_prefix(table, column)``)."""
        if value is None:
            return None
        data = value.encode()
        data += _PADDING[len(data) % PAD_BLOCK]
        # Random nonces drawn in blocks (one system call per 4096 values), never handed out twice.
        with self._nonce_lock:
            at = self._nonce_at
            if at + NONCE_SIZE > len(self._nonces):
                self._nonces = os.urandom(NONCE_SIZE * _NONCE_POOL)
                at = 0
            self._nonce_at = at + NONCE_SIZE
            nonce = self._nonces[at : at + NONCE_SIZE]
        return FORMAT + nonce + self._aead.encrypt(nonce, data, prefix + row_id.encode())

    def seal_many(
        self, prefix: bytes, row_ids: Sequence[str], values: Sequence[str | None]
    ) -> list[bytes | None]:
        """``seal_bound`` of each value for the row id at the same place (one nonce draw)."""
        count = len(values)
        with self._nonce_lock:
            at = self._nonce_at
            if at + NONCE_SIZE * count > len(self._nonces):
                self._nonces = os.urandom(NONCE_SIZE * max(count, _NONCE_POOL))
                at = 0
            self._nonce_at = at + NONCE_SIZE * count
            nonces = self._nonces
        encrypt = self._aead.encrypt
        sealed: list[bytes | None] = []
        append = sealed.append
        for row_id, value in zip(row_ids, values, strict=True):
            if value is None:
                append(None)
                continue
            data = value.encode()
            data += _PADDING[len(data) % PAD_BLOCK]
            nonce = nonces[at : at + NONCE_SIZE]
            at += NONCE_SIZE
            append(FORMAT + nonce + encrypt(nonce, data, prefix + row_id.encode()))
        return sealed

    def open(self, table: str, column: str, row_id: str, stored: Any) -> str | None:
        """The text sealed by ``seal`` (None stays None)."""
        if stored is None:
            return None
        raw = bytes(stored)
        if raw[:1] != FORMAT:
            raise ViewIntegrityError(f"{table}.{column} of {row_id}: not a sealed view value")
        aad = aad_prefix(table, column) + row_id.encode()
        try:
            data = self._aead.decrypt(raw[1 : 1 + NONCE_SIZE], raw[1 + NONCE_SIZE :], aad)
        except InvalidTag:
            raise ViewIntegrityError(
                f"{table}.{column} of {row_id} does not decrypt (wrong key, or moved)"
            ) from None
        return data[: data.rindex(b"\x80")].decode()

    # Blind index.

    def token(self, term: str) -> bytes:
        mac = self._index_mac.copy()  # the keyed state, computed once
        mac.update(term.encode())
        return mac.digest()[:TOKEN_SIZE]

    def index_tokens(self, texts: Iterable[str]) -> set[bytes]:
        """Tokens to store for a partner's names."""
        return {self.token(term) for term in index_terms(texts)}

    def query_tokens(self, text: str) -> list[bytes]:
        return [self.token(term) for term in query_terms(text)]
