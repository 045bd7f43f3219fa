"""SIGKILL the server during a write load, again and again: nothing acknowledged is ever lost.

Each round starts the API (uvicorn subprocess), writes from a few threads, kills the process at
a random moment, restarts it, and checks that every acknowledged mutation is there, that the
views catch up with the log, and that `registry verify` passes. SQLite embedded, and PostgreSQL
with a separate projection worker.
"""

from __future__ import annotations

import os
import random
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.backends import Backend, postgres_backend, sqlite_backend
from tests.reliability.servers import (
    ApiServer,
    gql,
    issuer,
    registry_env,
    registry_verify,
    start_worker,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

ROUNDS = int(os.environ.get("REGISTRY_CRASH_ROUNDS", "20"))
WRITERS = 3

REGISTER = """mutation($n: String!) {
  registerPartner(name: $n, kind: "local CSO", scope: "local") { id name } }"""
ADD_CONTACT = """mutation($p: ID!, $n: String!) {
  addContactPerson(partnerId: $p, name: $n) { id version } }"""
READ = """query($p: ID!) { partner(id: $p) { name version contactPersons { name } } }"""


@dataclass
class Acknowledged:
    """What the server said it recorded (HTTP 200, no errors), guarded by a lock."""

    partners: dict[str, str] = field(default_factory=dict)  # id -> name
    contacts: dict[str, set[str]] = field(default_factory=dict)  # partner id -> names
    lock: threading.Lock = field(default_factory=threading.Lock)
    attempts: int = 0
    failures: int = 0


def _write_until_killed(
    url: str, token: str, shared: str, acked: Acknowledged, stop: threading.Event, tag: str
) -> None:
    counter = 0
    with httpx.Client(timeout=10) as client:
        while not stop.is_set():
            counter += 1
            try:
                if counter % 2:
                    name = f"Partner {tag}-{counter}"
                    response = gql(client, url, token, REGISTER, {"n": name})
                else:
                    name = f"Contact {tag}-{counter}"
                    response = gql(client, url, token, ADD_CONTACT, {"p": shared, "n": name})
                body = response.json() if response.status_code == 200 else {}
            except (httpx.HTTPError, ValueError):
                with acked.lock:  # cut off by the kill: unknown outcome, not acknowledged
                    acked.attempts += 1
                    acked.failures += 1
                return
            with acked.lock:
                acked.attempts += 1
                if response.status_code != 200 or body.get("errors"):
                    acked.failures += 1
                elif counter % 2:
                    acked.partners[body["data"]["registerPartner"]["id"]] = name
                else:
                    acked.contacts.setdefault(shared, set()).add(name)


def _check_everything_acknowledged_is_there(
    client: httpx.Client, url: str, token: str, acked: Acknowledged, checked: set[str]
) -> None:
    """Partners acknowledged since the last check (25 per request), and every contact."""
    new = [(p, n) for p, n in acked.partners.items() if p not in checked]
    for start in range(0, len(new), 25):
        chunk = new[start : start + 25]
        query = (
            "{ "
            + " ".join(f'p{i}: partner(id: "{p}") {{ name }}' for i, (p, _) in enumerate(chunk))
            + " }"
        )
        body = gql(client, url, token, query).json()
        assert body.get("errors") is None, body
        for i, (partner_id, name) in enumerate(chunk):
            assert body["data"][f"p{i}"]["name"] == name, partner_id
            checked.add(partner_id)
    for partner_id, names in acked.contacts.items():
        body = gql(client, url, token, READ, {"p": partner_id}).json()
        found = {c["name"] for c in body["data"]["partner"]["contactPersons"]}
        assert names <= found, f"lost contacts: {sorted(names - found)[:5]}"


def _crash_rounds(backend: Backend, tmp_path: Path, worker_mode: bool) -> None:
    tokens, key_file = issuer(tmp_path)
    token = tokens.issue("recorder", subject="crash-recorder")
    extra = {"REGISTRY_PROJECTION_MODE": "worker" if worker_mode else "embedded"}
    env = registry_env(backend, key_file, **extra)
    rng = random.Random(int(os.environ.get("REGISTRY_CRASH_SEED", "20240607")))
    server = ApiServer(env, tmp_path / "api.log")
    worker = start_worker(env, tmp_path / "worker.log") if worker_mode else None
    acked = Acknowledged()
    verdicts: list[subprocess.CompletedProcess[str]] = []
    verifier: threading.Thread | None = None
    checked: set[str] = set()
    started = time.monotonic()
    try:
        server.start()
        with httpx.Client(timeout=10) as client:
            created = gql(client, server.url, token, REGISTER, {"n": "Shared partner"}).json()
            assert created.get("errors") is None, created
            shared = created["data"]["registerPartner"]["id"]
            acked.partners[shared] = "Shared partner"
            for round_number in range(ROUNDS):
                stop = threading.Event()
                writers = [
                    threading.Thread(
                        target=_write_until_killed,
                        args=(server.url, token, shared, acked, stop, f"{round_number}.{i}"),
                    )
                    for i in range(WRITERS)
                ]
                for thread in writers:
                    thread.start()
                time.sleep(rng.uniform(0.05, 1.2))
                server.kill()
                stop.set()
                for thread in writers:
                    thread.join(timeout=30)
                server.start()
                server.wait_ready()
                _check_everything_acknowledged_is_there(client, server.url, token, acked, checked)
                if worker is not None:
                    assert worker.poll() is None, "the projection worker died"
                # `registry verify` runs beside the next round's load (a reader of the store).
                if verifier is not None:
                    verifier.join()
                    assert verdicts[-1].returncode == 0, verdicts[-1].stdout + verdicts[-1].stderr
                verifier = threading.Thread(target=lambda: verdicts.append(registry_verify(env)))
                verifier.start()
            if verifier is not None:
                verifier.join()
            checked.clear()  # at the end, everything once more
            _check_everything_acknowledged_is_there(client, server.url, token, acked, checked)
            verified = registry_verify(env)  # and once more, quiescent, at the end
            assert verified.returncode == 0, verified.stdout + verified.stderr
            assert all(v.returncode == 0 for v in verdicts), [v.stdout for v in verdicts]
    finally:
        server.stop()
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=15)
    print(
        f"\n[crash {backend.name}] {ROUNDS} SIGKILL rounds in {time.monotonic() - started:.0f}s: "
        f"{acked.attempts} mutations sent, {len(acked.partners)} partners and "
        f"{sum(len(v) for v in acked.contacts.values())} contacts acknowledged and found, "
        f"{acked.failures} cut off by the kill, `registry verify` passed {len(verdicts) + 1} times"
    )


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Backend]:
    with sqlite_backend(tmp_path) as found:
        yield found


def test_sigkill_during_writes_loses_nothing_acknowledged_on_sqlite(
    sqlite: Backend, tmp_path: Path
) -> None:
    _crash_rounds(sqlite, tmp_path, worker_mode=False)


@pytest.mark.postgres
def test_sigkill_during_writes_loses_nothing_acknowledged_on_postgres(tmp_path: Path) -> None:
    with postgres_backend() as backend:
        _crash_rounds(backend, tmp_path, worker_mode=True)
