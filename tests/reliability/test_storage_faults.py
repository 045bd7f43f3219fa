"""Storage faults under writes: a locked SQLite file, a full disk, a restarted PostgreSQL.

Clients get a clear answer (data, a typed GraphQL error or a 503, never a traceback), nothing
is half-written, and the registry recovers by itself once the fault clears.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.backends import Backend, sqlite_backend
from tests.reliability.servers import (
    ApiServer,
    gql,
    issuer,
    private_postgres,
    registry_env,
    registry_verify,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

REGISTER = """mutation($n: String!, $m: String!) {
  registerPartner(name: $n, kind: "local CSO", scope: "local", missionContext: $m) { id } }"""
READ = """query($p: ID!) { partner(id: $p) { name } }"""


class Outcomes:
    """What the clients saw, by kind; acknowledged partners by id."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acked: dict[str, str] = {}
        self.errors: list[str] = []
        self.unclear: list[str] = []

    def send(self, client: httpx.Client, url: str, token: str, name: str, text: str = "") -> None:
        try:
            response = gql(client, url, token, REGISTER, {"n": name, "m": text})
        except httpx.HTTPError as error:
            with self.lock:
                self.errors.append(f"transport: {error.__class__.__name__}")
            return
        with self.lock:
            if "Traceback" in response.text or 'File "' in response.text:
                self.unclear.append(response.text[:500])
            elif response.status_code == 200 and not response.json().get("errors"):
                self.acked[response.json()["data"]["registerPartner"]["id"]] = name
            elif response.status_code == 200:
                first = response.json()["errors"][0]
                code = (first.get("extensions") or {}).get("code")
                if not code or not first.get("message"):
                    self.unclear.append(response.text[:500])
                self.errors.append(f"{code}: {first.get('message', '')[:120]}")
            elif response.status_code == 503:
                self.errors.append(f"503: {response.text[:120]}")
            else:
                self.unclear.append(f"{response.status_code}: {response.text[:300]}")

    def check_present(self, client: httpx.Client, url: str, token: str) -> None:
        for partner_id, name in self.acked.items():
            body = gql(client, url, token, READ, {"p": partner_id}).json()
            assert body.get("errors") is None, body
            assert body["data"]["partner"]["name"] == name


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Backend]:
    with sqlite_backend(tmp_path) as found:
        yield found


LOCKER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("ROLLBACK")
"""


def test_sqlite_locked_by_another_process_answers_clearly_and_recovers(
    sqlite: Backend, tmp_path: Path
) -> None:
    tokens, key_file = issuer(tmp_path)
    token = tokens.issue("recorder", subject="lock-recorder")
    env = registry_env(sqlite, key_file, REGISTRY_PROJECTION_MODE="embedded")
    server = ApiServer(env, tmp_path / "api.log")
    outcomes = Outcomes()
    try:
        server.start()
        with httpx.Client(timeout=60) as client:
            outcomes.send(client, server.url, token, "Before the lock")
            assert sqlite.sqlite_path is not None
            locker = subprocess.Popen(
                [sys.executable, "-c", LOCKER, str(sqlite.sqlite_path), "4"],
                stdout=subprocess.PIPE,
            )
            assert locker.stdout is not None
            assert locker.stdout.readline().strip() == b"locked"
            writers = [
                threading.Thread(
                    target=outcomes.send, args=(client, server.url, token, f"During lock {i}")
                )
                for i in range(4)
            ]
            for thread in writers:
                thread.start()
            for thread in writers:
                thread.join(timeout=60)
            locker.wait(timeout=30)
            outcomes.send(client, server.url, token, "After the lock")
            assert "After the lock" in outcomes.acked.values(), outcomes.errors
            server.wait_ready()
            outcomes.check_present(client, server.url, token)
    finally:
        server.stop()
    print(f"\n[sqlite lock] acknowledged {len(outcomes.acked)}, refused {outcomes.errors}")
    assert not outcomes.unclear, outcomes.unclear
    assert registry_verify(env).returncode == 0


def test_a_full_disk_answers_clearly_and_recovers_when_space_is_freed(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"mount -t tmpfs not permitted here: {mounted.stderr.strip()}")
    try:
        backend = Backend(name="sqlite", database_url=f"sqlite:///{disk / 'registry.db'}")
        tokens, key_file = issuer(tmp_path)
        token = tokens.issue("recorder", subject="disk-recorder")
        env = registry_env(backend, key_file, REGISTRY_PROJECTION_MODE="embedded")
        server = ApiServer(env, tmp_path / "api.log")
        outcomes = Outcomes()
        try:
            server.start()
            with httpx.Client(timeout=60) as client:
                outcomes.send(client, server.url, token, "Before the disk fills")
                filler = disk / "filler"
                with filler.open("wb") as out:  # fill what is left, so the next writes fail
                    try:
                        while True:
                            out.write(b"\0" * 65536)
                            out.flush()
                    except OSError:
                        pass
                for i in range(40):  # texts within the limits: storage, not validation, refuses
                    outcomes.send(client, server.url, token, f"Disk full {i}", "x" * 290)
                    if outcomes.errors:
                        break
                assert outcomes.errors, "no write failed on a full disk"
                filler.unlink()
                outcomes.send(client, server.url, token, "After space is freed")
                assert "After space is freed" in outcomes.acked.values(), outcomes.errors
                server.wait_ready()
                outcomes.check_present(client, server.url, token)
        finally:
            server.stop()
        verified = registry_verify(env)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
    print(f"\n[disk full] acknowledged {len(outcomes.acked)}, refused {outcomes.errors}")
    assert not outcomes.unclear, outcomes.unclear


def test_postgres_restarted_under_load_answers_clearly_and_recovers(tmp_path: Path) -> None:
    """On a private cluster (the shared server is never restarted)."""
    with private_postgres() as cluster:
        backend = cluster.backend()
        tokens, key_file = issuer(tmp_path)
        token = tokens.issue("recorder", subject="pg-recorder")
        env = registry_env(backend, key_file, REGISTRY_PROJECTION_MODE="embedded")
        server = ApiServer(env, tmp_path / "api.log")
        outcomes = Outcomes()
        stop = threading.Event()

        def write(tag: int) -> None:
            with httpx.Client(timeout=30) as client:
                count = 0
                while not stop.is_set():
                    count += 1
                    outcomes.send(client, server.url, token, f"Writer {tag}-{count}")

        try:
            server.start()
            writers = [threading.Thread(target=write, args=(i,)) for i in range(3)]
            for thread in writers:
                thread.start()
            time.sleep(1.0)
            cluster.restart()
            time.sleep(3.0)
            stop.set()
            for thread in writers:
                thread.join(timeout=60)
            with httpx.Client(timeout=30) as client:
                deadline = time.monotonic() + 30
                before = len(outcomes.acked)
                while len(outcomes.acked) == before and time.monotonic() < deadline:
                    outcomes.send(client, server.url, token, "After the restart")
                    time.sleep(0.5)
                assert "After the restart" in outcomes.acked.values(), (
                    f"no write succeeded within 30 s of the restart: {outcomes.errors[-3:]}\n"
                    f"{server.log_tail()[-1500:]}"
                )
                server.wait_ready()
                outcomes.check_present(client, server.url, token)
        finally:
            stop.set()
            server.stop()
        verified = registry_verify(env)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    kinds = sorted({e.split(":")[0] for e in outcomes.errors})
    print(
        f"\n[postgres restart] acknowledged {len(outcomes.acked)}, "
        f"refused {len(outcomes.errors)} ({kinds})"
    )
    assert not outcomes.unclear, outcomes.unclear
