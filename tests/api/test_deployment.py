"""PostgreSQL deployment end to end: two API processes and one projection worker, one database."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from security.tokens import TokenIssuer
from tests.backends import POSTGRES_URL, Backend, postgres_backend

ISSUER = "partnership-registry"
pytestmark = pytest.mark.postgres


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            errors = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise AssertionError(f"{url} exited with {process.returncode}: {errors[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not become healthy")


def _wait_for_views(backend: Backend, worker: subprocess.Popen[bytes]) -> None:
    """The worker has created the view tables (so API processes do not race it)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert worker.poll() is None, "the projection worker exited"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            found = conn.execute(
                "SELECT to_regclass(%s)", (f"{backend.postgres_schema}.view_tracking",)
            ).fetchone()
        if found and found[0] is not None:
            return
        time.sleep(0.2)
    raise AssertionError("the projection worker did not create the views")


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[tuple[list[str], TokenIssuer]]:
    with postgres_backend() as backend:
        yield from _run(backend, tmp_path)


def _run(backend: Backend, tmp_path: Path) -> Iterator[tuple[list[str], TokenIssuer]]:
    key_file = tmp_path / "signing.pem"
    issuer = TokenIssuer.from_key_file(key_file, ISSUER, ISSUER)
    env = {
        **os.environ,
        "REGISTRY_ENV": "test",
        "REGISTRY_DATABASE_URL": backend.database_url,
        "REGISTRY_MASTER_KEY": base64.b64encode(backend.master_key).decode(),
        "REGISTRY_SIGNING_KEY_FILE": str(key_file),
        "REGISTRY_PROJECTION_MODE": "worker",
    }
    root = Path(__file__).resolve().parents[2]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        worker = subprocess.Popen(
            [sys.executable, "-c", "from api.cli import main; main()", "projections", "run"],
            env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        processes.append(worker)
        _wait_for_views(backend, worker)
        urls = []
        for _ in range(2):
            port = _free_port()
            api = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", "api.asgi:create",
                 "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )  # fmt: skip
            processes.append(api)
            urls.append(f"http://127.0.0.1:{port}")
            # One at a time: each process creates its tables and keys if missing.
            _wait_healthy(urls[-1], api)
        yield urls, issuer
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _gql(url: str, token: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    response = httpx.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def test_a_write_through_one_api_process_is_read_through_the_other(
    deployment: tuple[list[str], TokenIssuer],
) -> None:
    (first, second), issuer = deployment
    recorder = issuer.issue("recorder", subject="deploy-recorder")
    created = _gql(
        first,
        recorder,
        """mutation { registerPartner(name: "Yei Interfaith Council",
             kind: "faith-based organisation", scope: "local") { id version } }""",
    )["registerPartner"]
    # The mutation returned only once the worker had projected it: the other process sees it.
    found = _gql(second, recorder, "query($p: ID!) { partner(id: $p) { name version } }",
                 {"p": created["id"]})  # fmt: skip
    assert found["partner"] == {"name": "Yei Interfaith Council", "version": 1}
    _gql(second, recorder, "mutation($p: ID!) { activatePartner(partnerId: $p) { id } }",
         {"p": created["id"]})  # fmt: skip
    status = _gql(first, recorder, "query($p: ID!) { partner(id: $p) { status } }",
                  {"p": created["id"]})  # fmt: skip
    assert status["partner"]["status"] == "active"
