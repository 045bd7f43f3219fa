"""Browser sessions for the pages: the pasted bearer token in an HttpOnly cookie, and CSRF checks.

The cookie holds the same token the API takes in ``Authorization``; every page verifies it with
``app.state.token_verifier``, so a page and the API always agree on who the caller is and for
how long (an expired token signs the browser out).
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import quote

from fastapi import Request, Response

from domain.actors import Actor
from security.tokens import TokenError, TokenVerifier

TOKEN_COOKIE = "registry_ui_token"  # noqa: S105 (a cookie name, not a secret)
CSRF_COOKIE = "registry_ui_csrf"
COOKIE_PATH = "/ui"
SIGN_IN_PATH = "/ui/sign-in"
MAX_TOKEN_CHARS = 8192


class CsrfRefusedError(Exception):
    """A state-changing form came without the form token or from another origin."""


def actor_from_cookie(request: Request) -> tuple[Actor | None, str | None]:
    """The signed-in caller, or None and why not (no cookie, or the token no longer verifies)."""
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        return None, None
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        return verifier.verify(token), None
    except TokenError as error:
        return None, str(error)


def verify_pasted(request: Request, token: str) -> Actor:
    """The caller a pasted token names; ``TokenError`` with the API's message otherwise."""
    token = token.strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    if not token:
        raise TokenError("paste a bearer token")
    if len(token) > MAX_TOKEN_CHARS:
        raise TokenError("that is too long to be a token")
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier.verify(token)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_token_cookie(request: Request, response: Response, token: str) -> None:
    """HttpOnly (no script reads it), SameSite=Strict (no cross-site send), Secure over https."""
    response.set_cookie(
        TOKEN_COOKIE,
        token.strip().removeprefix("Bearer ").removeprefix("bearer ").strip(),
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )


def clear_token_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        TOKEN_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict", secure=is_https(request)
    )


def csrf_token(request: Request) -> tuple[str, bool]:
    """The browser's form token, and whether it is new (then ``set_csrf_cookie`` must send it)."""
    found = request.cookies.get(CSRF_COOKIE)
    if found and 16 <= len(found) <= 128:
        return found, False
    return secrets.token_urlsafe(32), True


def set_csrf_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        token,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )


def check_form(request: Request, submitted: str) -> None:
    """Double-submit token (form field equals the cookie) and, when sent, a same-origin Origin."""
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        expected = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
        if origin.rstrip("/") != expected:
            raise CsrfRefusedError(f"a form from {origin} may not act on this site")
    elif origin == "null":
        raise CsrfRefusedError("a form from an opaque origin may not act on this site")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not submitted or not hmac.compare_digest(cookie, submitted):
        raise CsrfRefusedError("the form has expired; load the page again and resubmit")


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a page of this UI (no open redirect)."""
    if (
        target
        and target.startswith("/ui/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(ord(c) < 32 for c in target)
        and not target.startswith(SIGN_IN_PATH)
    ):
        return target
    return "/ui/"


def sign_in_url(request: Request) -> str:
    """The sign-in page, remembering the page asked for."""
    wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"{SIGN_IN_PATH}?next={quote(wanted, safe='')}"
