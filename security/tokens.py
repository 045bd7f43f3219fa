"""Bearer tokens: EdDSA JWTs issued locally for the embedded default and verified with PyJWT."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from domain.actors import ADMIN, EVALUATOR, HUMAN_RIGHTS_OFFICER, PARTNER, RECORDER, Actor

TOKEN_ROLES = (RECORDER, HUMAN_RIGHTS_OFFICER, EVALUATOR, PARTNER, ADMIN)
ORGANISATION_CLAIM = "org"
ROLE_CLAIM = "role"
_TTL = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class TokenError(Exception):
    """A bearer token was missing, malformed, forged, expired or not yet valid."""


@dataclass(frozen=True)
class TokenIssuer:
    """Signs tokens with a local Ed25519 key (embedded default, development and tests)."""

    private_key: Ed25519PrivateKey
    issuer: str
    audience: str
    key_id: str

    @classmethod
    def from_key_file(cls, path: Path, issuer: str, audience: str) -> TokenIssuer:
        """Load the signing key, creating it (mode 0600) on first use."""
        if path.exists():
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                raise TokenError(f"{path} does not hold an Ed25519 private key")
            key = loaded
        else:
            key = Ed25519PrivateKey.generate()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            path.chmod(0o600)
        return cls(key, issuer, audience, key_id=public_key_id(key.public_key()))

    def issue(
        self,
        role: str,
        subject: str | None = None,
        organisation_id: str | None = None,
        ttl: str = "8h",
    ) -> str:
        if role not in TOKEN_ROLES:
            raise TokenError(f"unknown role {role!r}; one of {', '.join(TOKEN_ROLES)}")
        if role == PARTNER and not organisation_id:
            raise TokenError("a partner token needs --org PARTNER_ID")
        if role != PARTNER and organisation_id:
            raise TokenError("only partner tokens are bound to an organisation")
        now = datetime.now(tz=UTC)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject or f"{role}-{uuid.uuid4().hex[:8]}",
            "iat": now,
            "nbf": now,
            "exp": now + parse_ttl(ttl),
            ROLE_CLAIM: role,
        }
        if organisation_id:
            claims[ORGANISATION_CLAIM] = organisation_id
        return jwt.encode(claims, self.private_key, algorithm="EdDSA", headers={"kid": self.key_id})

    def jwks(self) -> dict[str, Any]:
        """The public half as a JWKS document, for verifiers."""
        public = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self.private_key.public_key()))
        public.update({"kid": self.key_id, "use": "sig", "alg": "EdDSA"})
        return {"keys": [public]}


class TokenVerifier:
    """Checks signature, issuer, audience, expiry and not-before; returns the acting user."""

    def __init__(self, jwks: dict[str, Any], issuer: str, audience: str) -> None:
        self._keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(jwks).keys}
        self._issuer = issuer
        self._audience = audience

    def verify(self, token: str) -> Actor:
        try:
            header = jwt.get_unverified_header(token)
            key = self._keys.get(header.get("kid", "")) if len(self._keys) > 1 else None
            if key is None:
                key = next(iter(self._keys.values()), None)
            if key is None:
                raise TokenError("no verification key is configured")
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["EdDSA", "RS256"],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": ["exp", "nbf", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise TokenError("the token has expired; ask for a new one") from error
        except jwt.ImmatureSignatureError as error:
            raise TokenError("the token is not valid yet (nbf is in the future)") from error
        except jwt.InvalidTokenError as error:
            raise TokenError(f"the token is not valid: {error}") from error
        role = claims.get(ROLE_CLAIM)
        if role not in TOKEN_ROLES:
            raise TokenError(
                f"the token's role claim {role!r} is not one of {', '.join(TOKEN_ROLES)}"
            )
        organisation = claims.get(ORGANISATION_CLAIM)
        if role == PARTNER and not organisation:
            raise TokenError("a partner token must carry the organisation claim 'org'")
        return Actor(subject_id=str(claims["sub"]), role=role, organisation_id=organisation)


def public_key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def parse_ttl(text: str) -> timedelta:
    match = _TTL.match(text.strip())
    if match is None:
        raise TokenError(f"ttl {text!r} must look like 30m, 8h or 2d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
