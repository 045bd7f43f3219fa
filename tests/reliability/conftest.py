"""Fixtures of the reliability suite: the in-process API client of tests/api on both backends."""

from __future__ import annotations

from tests.api.conftest import api

__all__ = ["api"]
