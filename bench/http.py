"""GraphQL over HTTP beside a plain FastAPI endpoint: uvicorn on loopback, 16 clients."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from api.graphql import ids
from api.runtime import build_registry
from bench.common import Figure, Results, percentile
from bench.data import ACTOR, Store, populate
from domain.actors import acting_as
from projections.rebuild import rebuild_all
from security.tokens import TokenIssuer

ROOT = Path(__file__).resolve().parents[1]
ISSUER = "partnership-registry"
TIMELINE_QUERY = """query($p: ID!) { timeline(first: 50, partnerIds: [$p]) {
  edges { cursor node { id eventId recordId version kind title
    validTime { text precision start end } recordedAt recordedLate partnerIds partnerKinds
    actorId actorRole reason } }
  pageInfo { hasNextPage } } }"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Load:
    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def ms(self, fraction: float) -> float:
        return percentile(self.latencies, fraction) * 1000


def fill(store: Store, events: int) -> UUID:
    """A store of about ``events`` events and one partner with 60 engagements (its timeline)."""
    registry = build_registry(store.settings())
    try:
        partners = populate(registry, events)
        target = partners[0]
        with acting_as(ACTOR):
            for n in range(60):
                registry.record_engagement(
                    "consultation", f"Timeline consultation {n}", f"2023-{1 + n % 12:02d}-{1 + n % 28:02d}",
                    partners=[(target, "participant")], summary="A meeting.",
                )  # fmt: skip
        rebuild_all(app=registry)
    finally:
        registry.close()
    return target


@contextmanager
def server(store: Store, folder: Path) -> Iterator[tuple[str, str, subprocess.Popen[bytes]]]:
    """uvicorn serving bench.server:create; yields its URL, a recorder's token and the process."""
    key_file = folder / "signing.pem"
    token = TokenIssuer.from_key_file(key_file, ISSUER, ISSUER).issue("recorder", "bench-recorder")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "REGISTRY_ENV": "test",
        "REGISTRY_DATABASE_URL": store.database_url,
        "REGISTRY_MASTER_KEY": base64.b64encode(store.master_key).decode(),
        "REGISTRY_SIGNING_KEY_FILE": str(key_file),
        "REGISTRY_LEDGER_SIGNING_KEY": base64.b64encode(b"b" * 32).decode(),
        "REGISTRY_LOG_LEVEL": "WARNING",
    }
    log = (folder / "server.log").open("ab")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "uvicorn", "--factory", "bench.server:create", "--host",
         "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {(folder / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not answer /healthz")
            time.sleep(0.1)
        yield url, token, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _request(method: str, path: str, port: int, token: str, body: bytes = b"") -> bytes:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: application/json\r\n"
        f"Origin: http://127.0.0.1:{port}\r\n"
    )
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


async def _client(
    port: int, request: bytes, until: float, latencies: list[float], errors: list[int]
) -> int:
    """One keep-alive connection sending ``request`` until ``until``; a minimal HTTP/1.1 client."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    try:
        while time.perf_counter() < until:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if not head.startswith(b"HTTP/1.1 200") or b'"errors"' in body[:20]:
                errors.append(1)
            done += 1
    finally:
        writer.close()
    return done


async def _load(port: int, request: bytes, clients: int, seconds: float) -> Load:
    warm: list[float] = []
    await asyncio.gather(
        *(_client(port, request, time.perf_counter() + 1.0, warm, []) for _ in range(clients))
    )
    latencies: list[float] = []
    errors: list[int] = []
    start = time.perf_counter()
    counts = await asyncio.gather(
        *(_client(port, request, start + seconds, latencies, errors) for _ in range(clients))
    )
    return Load(sum(counts), time.perf_counter() - start, latencies, len(errors))


def check_same_data(url: str, token: str, partner: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    graph = httpx.post(
        f"{url}/graphql", json={"query": TIMELINE_QUERY, "variables": {"p": partner}},
        headers=headers, timeout=30,
    ).json()  # fmt: skip
    plain = httpx.get(f"{url}/bench/timeline/{partner}", headers=headers, timeout=30).json()
    assert "errors" not in graph, graph
    edges = graph["data"]["timeline"]["edges"]
    assert len(edges) == 50 == len(plain["edges"]), (len(edges), len(plain["edges"]))
    for g, p in zip(edges, plain["edges"], strict=True):
        assert g["node"]["id"] == p["node"]["id"]
        assert g["node"]["title"] == p["node"]["title"]


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure(
    url: str, token: str, partner_id: UUID, clients: int, seconds: float
) -> tuple[Load, Load]:
    partner = ids.encode(ids.PARTNER, partner_id)
    check_same_data(url, token, partner)
    port = int(url.rsplit(":", 1)[1])
    body = json.dumps({"query": TIMELINE_QUERY, "variables": {"p": partner}}).encode()
    graph = asyncio.run(
        _load(port, _request("POST", "/graphql", port, token, body), clients, seconds)
    )
    plain_request = _request("GET", f"/bench/timeline/{partner}", port, token)
    plain = asyncio.run(_load(port, plain_request, clients, seconds))
    return graph, plain


def run(
    results: Results, store: Store, events: int, clients: int = 16, seconds: float = 8.0
) -> dict[str, Any]:
    partner_id = fill(store, events)
    section = f"graphql {store.backend}"
    with (
        tempfile.TemporaryDirectory(prefix="bench-http-") as folder,
        server(store, Path(folder)) as (
            url,
            token,
            process,
        ),
    ):
        graph, plain = measure(url, token, partner_id, clients, seconds)
        rss = rss_mb(process.pid)
    results.add(
        Figure(
            section,
            f"timeline page of 50, {clients} clients: GraphQL p50",
            graph.ms(0.5),
            "ms",
            plain.ms(0.5),
            "plain FastAPI",
        )
    )
    results.add(
        Figure(section, "GraphQL p99", graph.ms(0.99), "ms", plain.ms(0.99), "plain FastAPI")
    )
    results.add(
        Figure(
            section, "GraphQL requests/s", graph.rate, "req/s", plain.rate, "plain FastAPI",
            ">= 0.5x plain", graph.rate >= 0.5 * plain.rate,
        )
    )  # fmt: skip
    return {
        "graphql": {
            "rate": graph.rate,
            "p50_ms": graph.ms(0.5),
            "p99_ms": graph.ms(0.99),
            "errors": graph.errors,
            "requests": graph.requests,
        },
        "plain": {
            "rate": plain.rate,
            "p50_ms": plain.ms(0.5),
            "p99_ms": plain.ms(0.99),
            "errors": plain.errors,
            "requests": plain.requests,
        },
        "server_rss_mb": rss,
    }
