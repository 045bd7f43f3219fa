"""ASGI factory for `python -m uvicorn --factory api.asgi:create` (settings from REGISTRY_*)."""

from __future__ import annotations

from fastapi import FastAPI

from api.runtime import build_http_app
from api.settings import Settings


def create() -> FastAPI:
    """The HTTP app on the registry the environment configures."""
    return build_http_app(Settings())
