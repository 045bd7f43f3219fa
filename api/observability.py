"""Operability: readiness, Prometheus metrics and JSON logs with the request id on every line.

``install_observability(app, settings, registry, views)`` adds ``/readyz`` and ``/metrics`` and
an innermost ASGI middleware that times each request (by GraphQL operation or route), counts
GraphQL error codes, and logs one JSON line per request. docs/operations.md documents each.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from typing import Any

import structlog
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from graphql import OperationDefinitionNode, parse
from graphql.error import GraphQLError
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.middleware import Middleware

from api.settings import Settings
from projections.store import ViewStore

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

GRAPHQL_PATH = "/graphql"
# Labels stay bounded: codes outside this set count as OTHER, unknown fields as "unknown".
ERROR_CODES = frozenset(
    {"VALIDATION", "NOT_FOUND", "CONFLICT", "FORBIDDEN", "RULE_VIOLATION", "INTERNAL"}
)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_MAX_CAPTURED_BODY = 1_000_000
_HANDLER_MARK = "_registry_json_handler"

log = structlog.get_logger("registry.http")


class RegistryMetrics:
    """The app's own Prometheus collectors (one registry per app, so tests can build many)."""

    def __init__(self, registry: Any, views: Any, ledger: Any, settings: Settings) -> None:
        self.collectors = CollectorRegistry(auto_describe=True)
        self.latency = Histogram(
            "registry_request_duration_seconds",
            "Time to answer an HTTP request, by GraphQL operation (type and root field) or route.",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=self.collectors,
        )
        self.responses = Counter(
            "registry_http_responses",
            "HTTP responses by route (or GraphQL operation) and status code.",
            ["operation", "status"],
            registry=self.collectors,
        )
        self.errors = Counter(
            "registry_graphql_errors",
            "GraphQL errors returned, by extensions.code.",
            ["code"],
            registry=self.collectors,
        )
        self.conflicts_retried = Counter(
            "registry_conflicts_retried",
            "Commands that commute (contacts, follow-ups, risks, mitigations) re-run after a "
            "concurrent write to the same record.",
            registry=self.collectors,
        )
        self.collectors.register(_StorageCollector(registry, views, ledger, settings))


class _StorageCollector(Collector):
    """Gauges read at scrape time: log position, views position and lag, ledger tree size."""

    def __init__(self, registry: Any, views: Any, ledger: Any, settings: Settings) -> None:
        self.registry = registry
        self.views = views
        self.ledger = ledger
        self.settings = settings
        self._fallback_ledger: Any = None

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            log_position, views_position = positions(self.registry, self.views)
        except Exception as error:  # storage down: no gauges this scrape, say why in the log
            log.warning("metrics: storage did not answer", error=str(error))
            return
        yield GaugeMetricFamily(
            "registry_log_position",
            "Notification id of the newest stored event (events in the log).",
            value=log_position,
        )
        yield GaugeMetricFamily(
            "registry_views_position",
            "Notification id the views include (their tracking position).",
            value=views_position,
        )
        yield GaugeMetricFamily(
            "registry_projection_lag_events",
            "Events stored but not yet in the views.",
            value=max(0, log_position - views_position),
        )
        size = self._ledger_size()
        if size is not None:
            yield GaugeMetricFamily(
                "registry_ledger_tree_size",
                "Events integrated into the tamper-evident ledger (its Merkle tree size).",
                value=size,
            )

    def _ledger_size(self) -> int | None:
        try:
            keeper = self.ledger
            if keeper is not None:
                return int(keeper.ledger.tree_size())
            if self._fallback_ledger is None:
                from api.bootstrap import storage_env
                from security.ledger import AuditLedger

                self._fallback_ledger = AuditLedger(storage_env(self.settings.database_url))
            return int(self._fallback_ledger.tree_size())
        except Exception as error:  # no ledger tables yet, or storage down
            log.warning("metrics: ledger size unavailable", error=str(error))
            return None


def view_store(registry: Any, views: Any) -> ViewStore:
    """The store the views live in (the follower's or waiter's own, else a new one)."""
    store = getattr(views, "store", None)
    return store if isinstance(store, ViewStore) else ViewStore.for_application(registry)


def positions(registry: Any, views: Any) -> tuple[int, int]:
    """(newest position in the log, position the views include), both read from storage."""
    log_position = int(registry.max_position())
    views_position = view_store(registry, views).max_tracking_id(registry.name) or 0
    return log_position, int(views_position)


def install_observability(app: FastAPI, settings: Settings, registry: Any, views: Any) -> None:
    """Add /readyz, /metrics, JSON logging and the per-request metrics middleware to ``app``."""
    configure_logging(settings)
    metrics = RegistryMetrics(registry, views, getattr(app.state, "ledger", None), settings)
    app.state.metrics = metrics
    count_retries(registry, metrics.conflicts_retried)
    operations = _root_fields(app)

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        """Readiness: storage answers and the views are within REGISTRY_READY_MAX_LAG events."""
        try:
            log_position, views_position = positions(registry, views)
        except Exception as error:
            log.warning("readyz: storage did not answer", error=str(error))
            return JSONResponse(
                {"status": "unavailable", "reason": "storage did not answer"}, status_code=503
            )
        lag = max(0, log_position - views_position)
        body = {
            "status": "ready" if lag <= settings.ready_max_lag else "lagging",
            "log_position": log_position,
            "views_position": views_position,
            "lag": lag,
            "max_lag": settings.ready_max_lag,
        }
        return JSONResponse(body, status_code=200 if lag <= settings.ready_max_lag else 503)

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        """Prometheus text exposition of the app's metrics."""
        return Response(generate_latest(metrics.collectors), media_type=CONTENT_TYPE_LATEST)

    # Appended, so innermost: it runs after the hardening's RequestIds has set the request id.
    app.user_middleware.append(Middleware(RequestMetrics, metrics=metrics, operations=operations))


def count_retries(registry: Any, counter: Counter) -> None:
    """Wrap the registry's ``_retrying`` so every re-run after a conflict is counted.

    The domain stays free of metrics: the wrapper counts attempts beyond the first.
    """
    original = getattr(registry, "_retrying", None)
    if original is None or getattr(original, "_counts_retries", False):
        return

    def retrying(attempt: Callable[[], Any]) -> Any:
        attempts = 0

        def counted() -> Any:
            nonlocal attempts
            attempts += 1
            return attempt()

        try:
            return original(counted)
        finally:
            if attempts > 1:
                counter.inc(attempts - 1)

    retrying._counts_retries = True  # type: ignore[attr-defined]
    setattr(registry, "_retrying", retrying)  # noqa: B010 (an instance attribute shadows the method)


def _root_fields(app: FastAPI) -> dict[str, frozenset[str]]:
    """Root field names by operation type, from the schema mounted at /graphql."""
    from api.graphql.schema import schema

    del app
    found: dict[str, frozenset[str]] = {}
    graphql_schema = schema._schema
    for kind, root in (
        ("query", graphql_schema.query_type),
        ("mutation", graphql_schema.mutation_type),
    ):
        found[kind] = frozenset(root.fields) if root is not None else frozenset()
    return found


def graphql_operation(body: bytes, operations: dict[str, frozenset[str]]) -> str:
    """'mutation registerPartner' for a request body, 'graphql unknown' when unparseable."""
    try:
        request = json.loads(body)
        query = request["query"]
        wanted = request.get("operationName")
    except (ValueError, KeyError, TypeError, AttributeError):
        return "graphql unknown"
    if not isinstance(query, str) or not (wanted is None or isinstance(wanted, str)):
        return "graphql unknown"
    known = tuple(operations.items())
    if len(query) <= _MAX_CACHED_QUERY:  # clients send the same few documents: parse each once
        return _operation_label(query, wanted, known)
    return _operation_label.__wrapped__(query, wanted, known)


_MAX_CACHED_QUERY = 20_000


@functools.lru_cache(maxsize=256)
def _operation_label(
    query: str, wanted: str | None, operations: tuple[tuple[str, frozenset[str]], ...]
) -> str:
    try:
        document = parse(query, no_location=True)
    except (GraphQLError, RecursionError, TypeError):
        return "graphql unknown"
    roots = dict(operations)
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if wanted and (definition.name is None or definition.name.value != wanted):
            continue
        kind = definition.operation.value
        fields = [
            s.name.value
            for s in definition.selection_set.selections
            if hasattr(s, "name") and s.name.value in roots.get(kind, frozenset())
        ]
        return f"{kind} {fields[0]}" if fields else f"{kind} unknown"
    return "graphql unknown"


def error_codes(body: bytes) -> list[str]:
    """extensions.code of every error in a GraphQL response body (OTHER when unknown)."""
    if b'"errors"' not in body:  # a JSON object with an errors key has this text in it
        return []
    try:
        errors = json.loads(body).get("errors") or []
    except (ValueError, AttributeError):
        return []
    codes = []
    for error in errors:
        code = (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
        codes.append(code if code in ERROR_CODES else "OTHER")
    return codes


class RequestMetrics:
    """Times each request, counts its status and GraphQL error codes, logs one JSON line."""

    def __init__(
        self, app: ASGIApp, metrics: RegistryMetrics, operations: dict[str, frozenset[str]]
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.operations = operations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from api.hardening import REQUEST_ID_HEADER, current_request_id

        request_id = _header(scope, REQUEST_ID_HEADER) or current_request_id()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        is_graphql = scope.get("path") == GRAPHQL_PATH and scope.get("method") == "POST"
        request_body = bytearray()
        response_body = bytearray()
        status = 500
        started = time.perf_counter()

        async def recording_receive() -> Message:
            message = await receive()
            capturing = is_graphql and len(request_body) < _MAX_CAPTURED_BODY
            if capturing and message["type"] == "http.request":
                request_body.extend(message.get("body", b""))
            return message

        def capturing_response() -> bool:
            return is_graphql and len(response_body) < _MAX_CAPTURED_BODY

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and capturing_response():
                response_body.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            elapsed = time.perf_counter() - started
            operation = self._operation(scope, bytes(request_body), is_graphql)
            codes = error_codes(bytes(response_body)) if is_graphql else []
            self.metrics.latency.labels(operation).observe(elapsed)
            self.metrics.responses.labels(operation, str(status)).inc()
            for code in codes:
                self.metrics.errors.labels(code).inc()
            log.info(
                "request",
                method=scope.get("method"),
                path=scope.get("path"),
                operation=operation,
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                error_codes=codes or None,
            )
            structlog.contextvars.unbind_contextvars("request_id")

    def _operation(self, scope: Scope, body: bytes, is_graphql: bool) -> str:
        if is_graphql:
            return graphql_operation(body, self.operations)
        route = scope.get("route")
        path = getattr(route, "path", None)
        return f"{scope.get('method')} {path}" if path else "unmatched"


def _header(scope: Scope, name: str) -> str | None:
    """A request header set by the client (a proxy's X-Request-ID is reused when given)."""
    wanted = name.lower().encode()
    for key, value in scope.get("headers", []):
        if key == wanted:
            text = bytes(value).decode("latin-1")
            return text[:64] if text.isprintable() else None
    return None


def configure_logging(settings: Settings) -> None:
    """JSON lines on stderr for structlog and the standard library (uvicorn included).

    Each line carries ``request_id`` (null outside a request), ``level``, ``logger``,
    ``timestamp`` and the event. Idempotent: building several apps adds one handler.
    """
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _ensure_request_id,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, _HANDLER_MARK, False)), None)
    if handler is None:
        handler = _StderrHandler()
        setattr(handler, _HANDLER_MARK, True)
        root.addHandler(handler)
    handler.setFormatter(formatter)
    root.setLevel(settings.log_level)
    # uvicorn's own handlers print plain text; route its lines through the JSON handler, and
    # leave access lines to RequestMetrics (which knows the operation and the request id).
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is now (test capture and reloads replace it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def _ensure_request_id(_: Any, __: str, event: MutableMapping[str, Any]) -> Any:
    event.setdefault("request_id", None)
    return event
