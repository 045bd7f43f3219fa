"""16 clients writing to the same and to different partners: no lost update, no 5xx.

Duration from REGISTRY_LOAD_SECONDS (60 under CI=true, 15 otherwise). Conflicts must surface as
CONFLICT (or be retried by the registry, counted in /metrics); every acknowledged change must be
in the partner's history afterwards: its version is one plus the number acknowledged.
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.backends import Backend, postgres_backend, sqlite_backend
from tests.reliability.servers import (
    ApiServer,
    gql,
    issuer,
    percentile,
    registry_env,
    start_worker,
)

pytestmark = pytest.mark.slow

CLIENTS = 16
SHARED = 4
SECONDS = float(
    os.environ.get(
        "REGISTRY_LOAD_SECONDS", "60" if os.environ.get("CI", "").lower() == "true" else "15"
    )
)

REGISTER = """mutation($n: String!) {
  registerPartner(name: $n, kind: "local CSO", scope: "local") { id } }"""
ADD_CONTACT = """mutation($p: ID!, $n: String!) {
  addContactPerson(partnerId: $p, name: $n) { version } }"""
MAPPING = """mutation($p: ID!, $i: Int!) {
  updateActorMapping(partnerId: $p, interest: $i, influence: 3) { version } }"""
READ = """query($p: ID!) { partner(id: $p) { version contactPersons { name } } }"""


class Tally:
    """Figures every client adds to, under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.codes: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.acked_events: Counter[str] = Counter()  # partner id -> acknowledged changes
        self.acked_contacts: dict[str, set[str]] = {}
        self.unexpected: list[str] = []


def _client(
    url: str, token: str, shared: list[str], own: str, tally: Tally, until: float, seed: int
) -> None:
    rng = random.Random(seed)
    with httpx.Client(timeout=60) as client:
        count = 0
        while time.monotonic() < until:
            count += 1
            partner = rng.choice(shared) if rng.random() < 0.7 else own
            variables: dict[str, object]
            if rng.random() < 0.5:
                name = f"Contact {seed}-{count}"
                query, variables = ADD_CONTACT, {"p": partner, "n": name}
            else:
                name = ""
                query, variables = MAPPING, {"p": partner, "i": rng.randint(1, 5)}
            started = time.perf_counter()
            response = gql(client, url, token, query, variables)
            elapsed = time.perf_counter() - started
            with tally.lock:
                tally.latencies.append(elapsed)
                tally.statuses[response.status_code] += 1
                if response.status_code != 200:
                    tally.unexpected.append(f"{response.status_code}: {response.text[:300]}")
                    continue
                body = response.json()
                errors = body.get("errors") or []
                if not errors:
                    tally.codes["OK"] += 1
                    tally.acked_events[partner] += 1
                    if name:
                        tally.acked_contacts.setdefault(partner, set()).add(name)
                    continue
                code = (errors[0].get("extensions") or {}).get("code", "NONE")
                tally.codes[code] += 1
                if code != "CONFLICT":
                    tally.unexpected.append(str(errors)[:300])


def _load(backend: Backend, tmp_path: Path, worker_mode: bool) -> None:
    tokens, key_file = issuer(tmp_path)
    token = tokens.issue("recorder", subject="load-recorder")
    mode = "worker" if worker_mode else "embedded"
    env = registry_env(backend, key_file, REGISTRY_PROJECTION_MODE=mode)
    server = ApiServer(env, tmp_path / "api.log")
    worker = start_worker(env, tmp_path / "worker.log") if worker_mode else None
    tally = Tally()
    try:
        server.start()
        with httpx.Client(timeout=30) as client:

            def register(name: str) -> str:
                body = gql(client, server.url, token, REGISTER, {"n": name}).json()
                assert body.get("errors") is None, body
                return str(body["data"]["registerPartner"]["id"])

            shared = [register(f"Shared {i}") for i in range(SHARED)]
            own = [register(f"Own {i}") for i in range(CLIENTS)]
            until = time.monotonic() + SECONDS
            threads = [
                threading.Thread(
                    target=_client, args=(server.url, token, shared, own[i], tally, until, i)
                )
                for i in range(CLIENTS)
            ]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=SECONDS + 120)
            wall = time.monotonic() - started
            server.wait_ready()
            metrics = client.get(f"{server.url}/metrics").text
            found = re.search(r"^registry_conflicts_retried_total (\S+)$", metrics, re.M)
            retried = int(float(found.group(1))) if found else 0
            for partner in shared + own:
                body = gql(client, server.url, token, READ, {"p": partner}).json()
                view = body["data"]["partner"]
                assert view["version"] == 1 + tally.acked_events[partner], (
                    f"partner {partner}: version {view['version']}, "
                    f"{tally.acked_events[partner]} changes acknowledged"
                )
                names = {c["name"] for c in view["contactPersons"]}
                assert tally.acked_contacts.get(partner, set()) <= names
    finally:
        server.stop()
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=15)
    requests = len(tally.latencies)
    print(
        f"\n[load {backend.name}] {CLIENTS} clients for {SECONDS:.0f}s ({wall:.1f}s wall): "
        f"{requests} requests ({requests / wall:.1f}/s), "
        f"p50 {percentile(tally.latencies, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(tally.latencies, 0.99) * 1000:.0f} ms, "
        f"max {max(tally.latencies, default=0) * 1000:.0f} ms; acknowledged {tally.codes['OK']}, "
        f"CONFLICT returned {tally.codes['CONFLICT']}, conflicts retried inside {retried}; "
        f"HTTP statuses {dict(tally.statuses)}"
    )
    assert not tally.unexpected, tally.unexpected[:5]
    assert all(status < 500 for status in tally.statuses)


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Backend]:
    with sqlite_backend(tmp_path) as found:
        yield found


def test_sixteen_clients_lose_no_update_and_get_no_5xx_on_sqlite(
    sqlite: Backend, tmp_path: Path
) -> None:
    _load(sqlite, tmp_path, worker_mode=False)


@pytest.mark.postgres
def test_sixteen_clients_lose_no_update_and_get_no_5xx_on_postgres(tmp_path: Path) -> None:
    with postgres_backend() as backend:
        _load(backend, tmp_path, worker_mode=True)
