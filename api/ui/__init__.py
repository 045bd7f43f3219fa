"""Server-rendered timeline pages (Jinja2 + SVG, no scripts) mounted under ``/ui``."""

from api.ui.pages import ui_router

__all__ = ["ui_router"]
