"""Production hardening, one test per point of issue 4 (6 and 7), on a small FastAPI+Strawberry app.

The app mounts the hardening exactly as the registry does (router options, schema extensions,
HTTP middleware), around a schema small enough to provoke each limit on purpose.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import strawberry
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from strawberry.fastapi import GraphQLRouter

from api.deps import current_actor
from api.graphql.errors import TypedErrors
from api.hardening import (
    AuthFailureThrottle,
    check_production_secrets,
    graphql_router_options,
    hardening_extensions,
    install_http_hardening,
)
from api.settings import ConfigurationError, Settings
from domain.errors import Forbidden
from security.tokens import TokenIssuer, TokenVerifier


@strawberry.type
class Item:
    name: str

    @strawberry.field
    def child(self) -> Item:
        return Item(name=self.name + "'")


@strawberry.type
class Query:
    @strawberry.field
    def items(self, first: int = 10) -> list[Item]:
        return [Item(name=f"item {i}") for i in range(first)]

    @strawberry.field
    def boom(self) -> str:
        raise RuntimeError("connection to db-secret-host refused")

    @strawberry.field
    def refused(self) -> str:
        raise Forbidden("the role evaluator may not run accessLog")


@strawberry.type
class Mutation:
    @strawberry.mutation
    def touch(self) -> str:
        return "touched"


def settings(env: str = "production", **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": env,
        "master_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "max_query_depth": 5,
        "max_aliases": 5,
        "max_tokens": 400,
        "max_body_bytes": 4096,
        "auth_failure_limit": 3,
        "auth_failure_window_seconds": 60,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> TokenIssuer:
    key = tmp_path_factory.mktemp("keys") / "signing.pem"
    return TokenIssuer.from_key_file(key, "partnership-registry", "partnership-registry")


def build_app(config: Settings, issuer: TokenIssuer) -> FastAPI:
    schema = strawberry.Schema(
        query=Query, mutation=Mutation, extensions=[TypedErrors, *hardening_extensions(config)]
    )

    def context(request: Request) -> dict[str, Any]:
        return {"actor": current_actor(request, request.app.state.token_verifier)}

    app = FastAPI()
    app.state.token_verifier = TokenVerifier(
        issuer.jwks(), config.token_issuer, config.token_audience
    )
    app.include_router(
        GraphQLRouter(schema, context_getter=context, **graphql_router_options(config)),
        prefix="/graphql",
    )

    @app.get("/crash")
    def crash() -> None:
        raise RuntimeError("stack trace with secrets")

    install_http_hardening(app, config)
    return app


@pytest.fixture
def production(issuer: TokenIssuer) -> Iterator[TestClient]:
    with TestClient(build_app(settings(), issuer)) as client:
        yield client


@pytest.fixture
def development(issuer: TokenIssuer) -> Iterator[TestClient]:
    with TestClient(build_app(settings("development"), issuer)) as client:
        yield client


@pytest.fixture
def auth(issuer: TokenIssuer) -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.issue('human_rights_officer', 'hro-1')}"}


def post(client: TestClient, auth: dict[str, str], query: str, **variables: Any) -> Any:
    return client.post("/graphql", json={"query": query, "variables": variables}, headers=auth)


def messages(response: Any) -> list[str]:
    return messages_of(response.json())


def messages_of(body: Any) -> list[str]:
    return [e["message"] for e in body.get("errors", [])]


# ---- GraphiQL, introspection, suggestions --------------------------------------------------


def test_production_serves_no_graphiql(
    production: TestClient, development: TestClient, auth: dict[str, str]
) -> None:
    html = {"Accept": "text/html", **auth}
    assert "graphiql" in development.get("/graphql", headers=html).text.lower()
    answer = production.get("/graphql", headers=html)
    assert answer.status_code in (404, 405)
    assert "graphiql" not in answer.text.lower()


def test_production_refuses_introspection(
    production: TestClient, development: TestClient, auth: dict[str, str]
) -> None:
    query = "{ __schema { queryType { name } } }"
    assert post(development, auth, query).json()["data"]["__schema"]["queryType"]["name"] == "Query"
    refused = post(production, auth, query).json()
    assert refused.get("data") is None
    assert any("introspection" in m.lower() for m in messages_of(refused))


def test_production_suggests_no_field_names(
    production: TestClient, development: TestClient, auth: dict[str, str]
) -> None:
    assert any("Did you mean" in m for m in messages(post(development, auth, "{ itemz { name } }")))
    found = messages(post(production, auth, "{ itemz { name } }"))
    assert found
    assert not any("Did you mean" in m or "items" in m for m in found)
    argument = messages(post(production, auth, "{ items(firs: 2) { name } }"))
    assert argument
    assert not any("Did you mean" in m for m in argument)


# ---- errors ------------------------------------------------------------------------------


def test_internal_errors_are_masked_and_logged_with_the_request_id_the_client_sees(
    production: TestClient, auth: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = post(production, auth, "{ boom }")
    request_id = response.headers["X-Request-ID"]
    (error,) = response.json()["errors"]
    assert "db-secret-host" not in response.text
    assert error["extensions"] == {"code": "INTERNAL", "requestId": request_id}
    assert request_id in error["message"]
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged
    assert logged[0].exc_info is not None


def test_registry_errors_keep_their_code_and_message(
    production: TestClient, auth: dict[str, str]
) -> None:
    (error,) = post(production, auth, "{ refused }").json()["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "accessLog" in error["message"]


def test_an_unhandled_http_error_is_a_masked_500_quoting_the_request_id(
    production: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = production.get("/crash")
    assert response.status_code == 500
    assert "secrets" not in response.text
    assert response.json()["requestId"] == response.headers["X-Request-ID"]
    assert any(response.headers["X-Request-ID"] in r.getMessage() for r in caplog.records)


def test_every_response_carries_a_distinct_request_id(production: TestClient) -> None:
    ids = {production.get("/graphql").headers["X-Request-ID"] for _ in range(5)}
    assert len(ids) == 5


# ---- limits ------------------------------------------------------------------------------


def test_queries_deeper_than_the_limit_are_refused(
    production: TestClient, auth: dict[str, str]
) -> None:
    shallow = "{ items(first: 1) { child { child { name } } } }"
    assert post(production, auth, shallow).json()["data"]
    deep = (
        "{ items(first: 1) { child { child { child { child { child { child { name } } } } } } } }"
    )
    body = post(production, auth, deep).json()
    assert body.get("data") is None
    assert any("exceeds maximum operation depth" in m for m in messages_of(body))


def test_limits_reuse_their_rules_so_validation_is_cached_and_still_refuses(
    production: TestClient, auth: dict[str, str]
) -> None:
    """Each request gets its own extension instances, with the same rule classes: the
    validation cache (keyed by document and rules) hits, and a cached refusal is a refusal."""
    from strawberry.extensions import AddValidationRules

    for cls in hardening_extensions(settings()):
        if issubclass(cls, AddValidationRules):
            first, second = cls(), cls()  # type: ignore[call-arg]
            assert first is not second
            assert first.validation_rules == second.validation_rules
    deep = (
        "{ items(first: 1) { child { child { child { child { child { child { name } } } } } } } }"
    )
    for _ in range(3):
        body = post(production, auth, deep).json()
        assert body.get("data") is None
        assert any("exceeds maximum operation depth" in m for m in messages_of(body))


def test_too_many_aliases_are_refused(production: TestClient, auth: dict[str, str]) -> None:
    fields = " ".join(f"a{i}: items(first: 1) {{ name }}" for i in range(6))
    body = post(production, auth, "{ " + fields + " }").json()
    assert body.get("data") is None
    assert any("aliases" in m.lower() for m in messages_of(body))


def test_too_many_tokens_are_refused(production: TestClient, auth: dict[str, str]) -> None:
    fields = " ".join("name" for _ in range(400))
    body = post(production, auth, "{ items(first: 1) { " + fields + " } }").json()
    assert body.get("data") is None
    assert any("token" in m.lower() for m in messages_of(body))


# ---- transport -----------------------------------------------------------------------------


def test_batched_operations_are_refused(production: TestClient, auth: dict[str, str]) -> None:
    batch = [{"query": "{ items(first: 1) { name } }"}] * 2
    response = production.post("/graphql", json=batch, headers=auth)
    assert response.status_code == 400


def test_mutations_only_over_post(
    production: TestClient, development: TestClient, auth: dict[str, str]
) -> None:
    # Development allows GET for queries, never for mutations; production allows no GET at all.
    query = {"query": "{ items(first: 1) { name } }"}
    assert development.get("/graphql", params=query, headers=auth).status_code == 200
    refused = development.get("/graphql", params={"query": "mutation { touch }"}, headers=auth)
    assert refused.status_code in (400, 405)
    assert "touched" not in refused.text
    refused_get = production.get("/graphql", params=query, headers=auth)
    assert refused_get.status_code in (400, 404, 405)
    assert "item 0" not in refused_get.text
    assert post(production, auth, "mutation { touch }").json()["data"] == {"touch": "touched"}


def test_request_bodies_over_the_limit_are_refused(
    production: TestClient, auth: dict[str, str]
) -> None:
    big = {"query": "{ items(first: 1) { name } }", "variables": {"pad": "x" * 5000}}
    response = production.post("/graphql", json=big, headers=auth)
    assert response.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        yield b'{"query": "{ items(first: 1) { name } }", "variables": {"pad": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}}'

    streamed = production.post(
        "/graphql", content=chunks(), headers={**auth, "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413


def test_cors_is_closed_unless_origins_are_configured(issuer: TokenIssuer) -> None:
    preflight = {
        "Origin": "https://elsewhere.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    with TestClient(build_app(settings(), issuer)) as closed:
        answer = closed.options("/graphql", headers=preflight)
        assert "access-control-allow-origin" not in answer.headers
    configured = settings(cors_origins="https://ops.example, https://hro.example")
    with TestClient(build_app(configured, issuer)) as open_to_some:
        refused = open_to_some.options("/graphql", headers=preflight)
        assert refused.headers.get("access-control-allow-origin") != "https://elsewhere.example"
        allowed = open_to_some.options(
            "/graphql", headers={**preflight, "Origin": "https://hro.example"}
        )
        assert allowed.headers["access-control-allow-origin"] == "https://hro.example"


def test_security_headers_on_every_response(
    production: TestClient, development: TestClient
) -> None:
    for client in (production, development):
        headers = client.get("/graphql").headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"
    production_headers = production.get("/graphql").headers
    assert "default-src 'none'" in production_headers["content-security-policy"]
    assert "max-age=" in production_headers["strict-transport-security"]


# ---- authentication throttling ------------------------------------------------------------


def test_repeated_authentication_failures_are_throttled_per_client(
    issuer: TokenIssuer, auth: dict[str, str]
) -> None:
    app = build_app(settings(), issuer)
    forged = {"Authorization": "Bearer not-a-token"}
    query = {"query": "{ items(first: 1) { name } }"}
    with TestClient(app, client=("203.0.113.7", 4000)) as attacker:
        for _ in range(3):
            assert attacker.post("/graphql", json=query, headers=forged).status_code == 401
        throttled = attacker.post("/graphql", json=query, headers=forged)
        assert throttled.status_code == 429
        assert 1 <= int(throttled.headers["Retry-After"]) <= 60
        # Throttled means throttled: even a valid token waits.
        assert attacker.post("/graphql", json=query, headers=auth).status_code == 429
    with TestClient(app, client=("198.51.100.2", 4000)) as neighbour:
        assert neighbour.post("/graphql", json=query, headers=auth).status_code == 200


def test_the_throttle_lifts_when_failures_leave_the_window() -> None:
    now = [1000.0]

    async def app(*_args: Any) -> None:  # never called
        raise AssertionError

    throttle = AuthFailureThrottle(app, limit=2, window=60, clock=lambda: now[0])
    throttle.failed("c")
    now[0] += 10
    throttle.failed("c")
    assert throttle.retry_after("c") == 50
    assert throttle.retry_after("other") == 0
    now[0] += 50
    assert throttle.retry_after("c") == 0


# ---- secrets (point 7) ----------------------------------------------------------------------


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "var").mkdir()
    return tmp_path


def production_settings(tmp: Path, **overrides: Any) -> Settings:
    key = tmp / "prod-signing.pem"
    TokenIssuer.from_key_file(key, "i", "a")
    values: dict[str, Any] = {
        "env": "production",
        "master_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "signing_key_file": key,
    }
    values.update(overrides)
    return Settings(**values)


def test_production_starts_with_its_own_keys(in_tmp: Path) -> None:
    check_production_secrets(production_settings(in_tmp))


def test_production_refuses_the_development_signing_key(in_tmp: Path) -> None:
    TokenIssuer.from_key_file(Path("var/dev-signing-key.pem"), "i", "a")
    with pytest.raises(ConfigurationError, match=r"^REGISTRY_SIGNING_KEY_FILE: the development"):
        check_production_secrets(
            production_settings(in_tmp, signing_key_file=Path("var/dev-signing-key.pem"))
        )
    with pytest.raises(ConfigurationError, match=r"^REGISTRY_SIGNING_KEY_FILE"):
        check_production_secrets(
            Settings(env="production", master_key=production_settings(in_tmp).master_key)
        )


def test_production_refuses_a_jwks_that_trusts_the_development_key(in_tmp: Path) -> None:
    dev = TokenIssuer.from_key_file(Path("var/dev-signing-key.pem"), "i", "a")
    jwks = in_tmp / "jwks.json"
    jwks.write_text(json.dumps(dev.jwks()))
    with pytest.raises(ConfigurationError, match=r"^REGISTRY_JWKS_FILE"):
        check_production_secrets(production_settings(in_tmp, jwks_file=jwks))


def test_production_refuses_a_missing_signing_key_instead_of_creating_one(in_tmp: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"^REGISTRY_SIGNING_KEY_FILE: .* does not exist"):
        check_production_secrets(production_settings(in_tmp, signing_key_file=in_tmp / "none.pem"))
    assert not (in_tmp / "none.pem").exists()


def test_production_refuses_the_development_master_key(in_tmp: Path) -> None:
    dev_key = base64.b64encode(secrets.token_bytes(32)).decode()
    Path("var/dev-master.key").write_text(dev_key + "\n")
    with pytest.raises(ConfigurationError, match=r"^REGISTRY_MASTER_KEY_FILE: the development"):
        check_production_secrets(
            production_settings(in_tmp, master_key=None, master_key_file=Path("var/dev-master.key"))
        )
    copy = in_tmp / "copy.key"
    copy.write_text(dev_key)
    with pytest.raises(ConfigurationError, match=r"^REGISTRY_MASTER_KEY_FILE: equals"):
        check_production_secrets(production_settings(in_tmp, master_key=None, master_key_file=copy))
    with pytest.raises(ConfigurationError, match=r"^REGISTRY_MASTER_KEY: equals"):
        check_production_secrets(production_settings(in_tmp, master_key=dev_key))


def test_production_requires_a_master_key(in_tmp: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"^REGISTRY_MASTER_KEY"):
        check_production_secrets(production_settings(in_tmp, master_key=None))


def test_development_may_use_development_keys(in_tmp: Path) -> None:
    check_production_secrets(Settings(env="development"))


def test_every_refusal_is_one_line(in_tmp: Path) -> None:
    with pytest.raises(ConfigurationError) as refused:
        check_production_secrets(
            production_settings(in_tmp, signing_key_file=Path("var/dev-signing-key.pem"))
        )
    assert "\n" not in str(refused.value)
