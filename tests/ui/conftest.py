"""Fixtures for the page tests: a live registry with demo data and a headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ui.browser import CHROMIUM, CHROMIUM_ARGS, LiveRegistry, live_registry, require_browser


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRegistry]:
    require_browser()
    folder: Path = tmp_path_factory.mktemp("ui-live")
    with live_registry(folder) as found:
        yield found


@pytest.fixture(scope="module")
def chromium(live: LiveRegistry) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
