"""Real processes for fault tests: the API under uvicorn, the projection worker, `registry verify`,
and a private PostgreSQL cluster on its own port (restarted by tests without touching the shared one).
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from security.tokens import TokenIssuer
from tests.backends import Backend

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "partnership-registry"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def registry_env(backend: Backend, signing_key: Path, **extra: str) -> dict[str, str]:
    """The environment a `registry` process needs for this backend."""
    return {
        **os.environ,
        "REGISTRY_ENV": "test",
        "REGISTRY_DATABASE_URL": backend.database_url,
        "REGISTRY_MASTER_KEY": base64.b64encode(backend.master_key).decode(),
        "REGISTRY_SIGNING_KEY_FILE": str(signing_key),
        "REGISTRY_LEDGER_SIGNING_KEY": base64.b64encode(b"k" * 32).decode(),
        "REGISTRY_LOG_LEVEL": "WARNING",
        **extra,
    }


@dataclass
class ApiServer:
    """One uvicorn process serving api.asgi:create; SIGKILL it and start it again at will."""

    env: dict[str, str]
    log_file: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", "api.asgi:create",
                 "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
                env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the API exited with {self.process.returncode}: {self.log_tail()}"
                )
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"the API did not answer /healthz: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def wait_ready(self, timeout: float = 30) -> dict[str, Any]:
        """Until /readyz reports no lag: the views include every stored event."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                response = httpx.get(f"{self.url}/readyz", timeout=2)
                last = response.json()
                if response.status_code == 200 and last["lag"] == 0:
                    return dict(last)
            except httpx.HTTPError as error:
                last = error
            time.sleep(0.05)
        raise AssertionError(f"views did not catch up: {last}")

    def log_tail(self) -> str:
        return self.log_file.read_text(errors="replace")[-3000:] if self.log_file.exists() else ""


WORKER_READY = b"projection worker following the log"


def start_worker(
    env: dict[str, str], log_file: Path, ready_timeout: float = 60.0
) -> subprocess.Popen[bytes]:
    """`registry projections run` as its own process, returned once it follows the log.

    Waiting for its start line keeps a slow start (imports, connections on a loaded machine)
    from being mistaken for views that never catch up.
    """
    start = log_file.stat().st_size if log_file.exists() else 0
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", "from api.cli import main; main()", "projections", "run"],
            env=env, cwd=ROOT, stdout=log, stderr=log,
        )  # fmt: skip
    deadline = time.monotonic() + ready_timeout
    while WORKER_READY not in log_file.read_bytes()[start:]:
        if process.poll() is not None:
            raise RuntimeError(f"the projection worker exited: {log_file.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"the projection worker did not start in {ready_timeout:g} s")
        time.sleep(0.1)
    return process


def registry_verify(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", "verify"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def gql(
    client: httpx.Client, url: str, token: str, query: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    return client.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
    )


def issuer(tmp_path: Path) -> tuple[TokenIssuer, Path]:
    key_file = tmp_path / "signing.pem"
    return TokenIssuer.from_key_file(key_file, ISSUER, ISSUER), key_file


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# ---- a private PostgreSQL cluster ------------------------------------------------------------


@dataclass
class PrivatePostgres:
    """A PostgreSQL 15 cluster in a temporary folder on its own port, owned by user postgres."""

    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D",
             str(self.folder / "data"), "-w", "-t", "30", *args],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def start(self) -> None:
        self._pg_ctl(
            "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=on",
            "-l", str(self.folder / "server.log"), "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-m", mode, "stop")

    def restart(self) -> None:
        """Stop (fast: connections are cut) and start again (as `pg_ctlcluster restart` does)."""
        self.stop("fast")
        self.start()

    def backend(self) -> Backend:
        return Backend(name="postgres", database_url=self.url)

    def answers(self) -> bool:
        try:
            with psycopg.connect(self.url, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """initdb + start on a free port; stopped and removed afterwards. Skips without the binaries."""
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
        pytest.skip(f"needs PostgreSQL binaries in {PG_BIN} and runuser")
    if os.geteuid() != 0:
        pytest.skip("starting a private PostgreSQL cluster needs root (to run it as postgres)")
    folder = Path(tempfile.mkdtemp(prefix="registry-pg-"))
    shutil.chown(folder, "postgres", "postgres")
    cluster = PrivatePostgres(folder, free_port())
    try:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D",
             str(folder / "data"), "-A", "trust", "-U", "postgres", "--no-sync"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        cluster.start()
        yield cluster
    finally:
        with suppress(subprocess.CalledProcessError):
            cluster.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)
