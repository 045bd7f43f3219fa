"""Browser test harness: the registry with demo data under uvicorn, and Debian's Chromium.

``make test`` skips the browser tests with a message when Playwright or Chromium is missing;
under CI=true they fail instead, so CI cannot pass without running them.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from api.app import create_app
from api.demo_data import demo_id, load_demo
from api.runtime import build_registry
from api.settings import Settings
from domain.application import PartnershipRegistry
from projections.follower import ViewFollower
from security.tokens import TokenIssuer, TokenVerifier

CHROMIUM = os.environ.get("REGISTRY_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ISSUER = "partnership-registry"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def browser_unavailable_reason() -> str | None:
    """None when Playwright imports and Chromium is installed, otherwise what is missing."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[dev]')"
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return (
            f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium,"
            " or set REGISTRY_TEST_CHROMIUM)"
        )
    return None


def require_browser() -> None:
    """Skip (on a user's machine) or fail (under CI=true) when the browser cannot run."""
    reason = browser_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI=true requires the browser tests to run", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class LiveRegistry:
    """The app with the demo data, served on a loopback port."""

    base_url: str
    issuer: TokenIssuer
    registry: PartnershipRegistry
    app: Any

    def token(self, role: str, org: str | None = None, subject: str | None = None) -> str:
        return self.issuer.issue(role, subject=subject or f"ui-{role}", organisation_id=org)


def partner_id(key: str) -> str:
    """A demo partner's id (its key in demo/dataset.json)."""
    return str(demo_id("partner", key))


@contextmanager
def live_registry(folder: Path) -> Iterator[LiveRegistry]:
    """SQLite temp file, demo data loaded and projected, uvicorn in a thread until exit."""
    settings = Settings(
        env="test",
        database_url=f"sqlite:///{folder / 'registry.db'}",
        master_key=base64.b64encode(secrets.token_bytes(32)).decode(),
        signing_key_file=folder / "signing.pem",
    )
    issuer = TokenIssuer.from_key_file(folder / "signing.pem", ISSUER, ISSUER)
    verifier = TokenVerifier(issuer.jwks(), ISSUER, ISSUER)
    registry = build_registry(settings)
    report = load_demo(registry)
    follower = ViewFollower(registry, poll_interval=0.05)
    app = create_app(settings, verifier, registry, follower)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="ui-test-server", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        follower.wait_until_projected(report.last_position, 60)
        yield LiveRegistry(f"http://127.0.0.1:{port}", issuer, registry, app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        registry.close()
