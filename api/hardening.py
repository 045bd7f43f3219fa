"""Production hardening: HTTP middleware, GraphQL limits and masking, and refusal of dev secrets.

``install_http_hardening(app, settings)`` for FastAPI, ``hardening_extensions(settings)`` for the
schema, ``graphql_router_options(settings)`` for the router, ``configure_security(settings)`` once.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from graphql import (
    GraphQLError,
)
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from api.settings import DEV_MASTER_KEY_FILE, ConfigurationError, Settings
from domain.errors import RegistryError
from security import pseudonyms

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEV_SIGNING_KEY_FILE = Path("var/dev-signing-key.pem")
REQUEST_ID_HEADER = "X-Request-ID"

_request_id: ContextVar[str | None] = ContextVar("registry_request_id", default=None)


def current_request_id() -> str:
    """The id of the HTTP request being served (a fresh one outside a request)."""
    return _request_id.get() or uuid.uuid4().hex[:16]


# ---- secrets -----------------------------------------------------------------------------


def check_production_secrets(settings: Settings) -> None:
    """Refuse, in production, the development signing key or master key (one-line message)."""
    if settings.env != "production":
        return
    uses_local_keys = settings.jwks_file is None and settings.jwks_url is None
    if uses_local_keys:
        if _same_file(settings.signing_key_file, DEV_SIGNING_KEY_FILE):
            raise ConfigurationError(
                "REGISTRY_SIGNING_KEY_FILE: the development signing key "
                f"({DEV_SIGNING_KEY_FILE}) may not be used in production; "
                "configure REGISTRY_JWKS_FILE/REGISTRY_JWKS_URL or a production key file"
            )
        if not settings.signing_key_file.exists():
            raise ConfigurationError(
                f"REGISTRY_SIGNING_KEY_FILE: {settings.signing_key_file} does not exist; "
                "production never creates a signing key on the fly"
            )
    elif settings.jwks_file is not None and _jwks_trusts_dev_key(settings.jwks_file):
        raise ConfigurationError(
            f"REGISTRY_JWKS_FILE: {settings.jwks_file} trusts the development signing key "
            f"({DEV_SIGNING_KEY_FILE})"
        )
    if settings.master_key_file is not None and _same_file(
        settings.master_key_file, DEV_MASTER_KEY_FILE
    ):
        raise ConfigurationError(
            f"REGISTRY_MASTER_KEY_FILE: the development master key ({DEV_MASTER_KEY_FILE}) "
            "may not be used in production"
        )
    key = settings.master_key_bytes()  # raises, naming the setting, when missing or malformed
    if DEV_MASTER_KEY_FILE.exists():
        try:
            dev_key = base64.b64decode(DEV_MASTER_KEY_FILE.read_text().strip())
        except ValueError:
            dev_key = b""
        if key == dev_key:
            setting = "REGISTRY_MASTER_KEY" if settings.master_key else "REGISTRY_MASTER_KEY_FILE"
            raise ConfigurationError(
                f"{setting}: equals the development master key ({DEV_MASTER_KEY_FILE}); "
                "production needs its own"
            )


def _same_file(path: Path, other: Path) -> bool:
    return path.resolve() == other.resolve()


def _jwks_trusts_dev_key(jwks_file: Path) -> bool:
    if not DEV_SIGNING_KEY_FILE.exists():
        return False
    from security.tokens import TokenIssuer

    dev = TokenIssuer.from_key_file(DEV_SIGNING_KEY_FILE, "", "")
    dev_x = dev.jwks()["keys"][0]["x"]
    try:
        keys = json.loads(jwks_file.read_text()).get("keys", [])
    except (OSError, ValueError):
        return False
    return any(isinstance(k, dict) and k.get("x") == dev_x for k in keys)


def configure_security(settings: Settings) -> None:
    """Once at startup: refuse dev secrets in production, key the evaluators' pseudonyms."""
    check_production_secrets(settings)
    pseudonyms.configure(pseudonyms.key_from_master(settings.master_key_bytes()))


# ---- GraphQL -----------------------------------------------------------------------------


def graphql_router_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``GraphQLRouter``: GraphiQL and GET queries only in development."""
    return {
        "graphql_ide": "graphiql" if settings.is_development else None,
        "allow_queries_via_get": settings.is_development,
        "multipart_uploads_enabled": False,
    }


def hardening_extensions(settings: Settings) -> list[type[SchemaExtension]]:
    """Schema extension classes: limits always; introspection and suggestions off in production.

    The page size cap is the resolvers' (``first`` clamped to 100, as the contract says).

    Classes, not instances, so each request gets its own (strawberry shares instances across
    requests). List them after the schema's own error extension, ``[TypedErrors, *these]``, so
    they see errors first: internal ones masked with the request id of ``X-Request-ID``.
    """
    extensions: list[type[SchemaExtension]] = [
        MaskInternalErrors,
        _bound(QueryDepthLimiter, max_depth=settings.max_query_depth),
        _bound(MaxAliasesLimiter, max_alias_count=settings.max_aliases),
        _bound(MaxTokensLimiter, max_token_count=settings.max_tokens),
    ]
    if settings.env == "production":
        extensions += [DisableIntrospection, NoSuggestions]
    return extensions


def _bound(cls: type[SchemaExtension], **kwargs: Any) -> type[SchemaExtension]:
    """A subclass of ``cls`` whose no-argument constructor passes ``kwargs``.

    Strawberry's limiters build a new validation rule class in every constructor, so a fresh
    instance per request would make each request's rules differ and ``ValidationCache`` (keyed
    by document and rules) would never hit: the document was validated again on every request.
    Rule-adding limiters are therefore built once here and each request reuses their rules.
    """
    if issubclass(cls, AddValidationRules):
        rules = tuple(cls(**kwargs).validation_rules)

        def reuse(self: AddValidationRules) -> None:
            AddValidationRules.__init__(self, list(rules))

        return type(cls.__name__, (cls,), {"__init__": reuse})

    def __init__(self: SchemaExtension) -> None:  # noqa: N807
        cls.__init__(self, **kwargs)

    return type(cls.__name__, (cls,), {"__init__": __init__})


_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class NoSuggestions(SchemaExtension):
    """Removes "Did you mean ...?" from every error, so the schema cannot be guessed by probing."""

    def on_operation(self) -> Iterator[None]:
        yield
        for error in _errors(self.execution_context):
            error.message = _SUGGESTION.sub("", error.message)


class MaskInternalErrors(SchemaExtension):
    """Errors that are neither the registry's nor the query's own become one line with the
    request id the client also gets in ``X-Request-ID``; the full error goes to the log."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is None or not errors:
            return
        result.errors = [self._masked(error) for error in errors]

    @staticmethod
    def _masked(error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is None or isinstance(original, RegistryError | GraphQLError):
            return error
        if error.path is None:  # raised before execution (a refused variable): typed later
            return error
        request_id = current_request_id()
        log.error("internal error, request id %s", request_id, exc_info=original)
        return GraphQLError(
            f"internal error; quote request id {request_id} to the registry's operators",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL", "requestId": request_id},
        )


def _errors(execution_context: Any) -> list[GraphQLError]:
    found: list[GraphQLError] = []
    result = execution_context.result
    found += list(getattr(result, "errors", None) or [])
    found += list(getattr(execution_context, "pre_execution_errors", None) or [])
    return found


# ---- HTTP --------------------------------------------------------------------------------


def install_http_hardening(app: FastAPI, settings: Settings) -> None:
    """Add the middleware stack; the outermost (last added) runs first on each request."""
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=[REQUEST_ID_HEADER, "Retry-After"],
        )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        AuthFailureThrottle,
        limit=settings.auth_failure_limit,
        window=settings.auth_failure_window_seconds,
    )
    app.add_middleware(SecurityHeaders, production=settings.env == "production")
    app.add_middleware(RequestIds)


async def _send_json(
    send: Send, status: int, body: dict[str, Any], headers: dict[str, str]
) -> None:
    payload = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


class RequestIds:
    """Gives each request an id (response header ``X-Request-ID``); unhandled errors become a
    masked 500 that quotes it, and are logged with it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        token = _request_id.set(request_id)
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.lower().encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error, request id %s", request_id)
            if started:
                raise
            await _send_json(
                send,
                500,
                {
                    "detail": f"internal error; quote request id {request_id}",
                    "requestId": request_id,
                },
                {REQUEST_ID_HEADER: request_id},
            )
        finally:
            _request_id.reset(token)


_BASE_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
_PRODUCTION_HEADERS = {
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "strict-transport-security": "max-age=63072000; includeSubDomains",
}


class SecurityHeaders:
    """Adds security headers to every response (a strict CSP and HSTS in production, where
    GraphiQL, which needs scripts, is not served)."""

    def __init__(self, app: ASGIApp, production: bool) -> None:
        self.app = app
        headers = dict(_BASE_HEADERS)
        if production:
            headers.update(_PRODUCTION_HEADERS)
        self.headers = [(k.encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((k, v) for k, v in self.headers if k not in present),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimit:
    """413 for bodies over ``max_bytes``, announced (Content-Length) or streamed (chunked)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(send)
                return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _BodyTooLarge:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        await _send_json(
            send, 413, {"detail": f"request body larger than {self.max_bytes} bytes"}, {}
        )


class _BodyTooLarge(Exception):  # noqa: N818 (control flow, never leaves the middleware)
    pass


class AuthFailureThrottle:
    """After ``limit`` 401 responses to one client within ``window`` seconds, answer 429 with
    ``Retry-After`` until the oldest failure leaves the window."""

    def __init__(
        self, app: ASGIApp, limit: int, window: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.app = app
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int:
        """Seconds until ``client`` may try again (0: now)."""
        now = self.clock()
        with self._lock:
            failures = self._failures.get(client)
            if failures is None:
                return 0
            while failures and failures[0] <= now - self.window:
                failures.popleft()
            if not failures:
                del self._failures[client]
                return 0
            if len(failures) < self.limit:
                return 0
            return max(1, int(failures[0] + self.window - now + 0.999))

    def failed(self, client: str) -> None:
        with self._lock:
            if len(self._failures) > 100_000:  # bound memory under a spray of addresses
                self._failures.clear()
            self._failures.setdefault(client, deque()).append(self.clock())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        wait = self.retry_after(client)
        if wait:
            await _send_json(
                send,
                429,
                {"detail": f"too many failed authentications; retry in {wait} s"},
                {"Retry-After": str(wait)},
            )
            return

        async def watching_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                self.failed(client)
            await send(message)

        await self.app(scope, receive, watching_send)
