"""Jinja2 rendering for the pages: autoescaped HTML and SVG, and the headers every page carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from api.ui.session import csrf_token, set_csrf_cookie

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STYLESHEET = HERE / "static" / "ui.css"

PAGE_HEADERS = {
    # Pages need only their own stylesheet: no scripts, no inline styles, forms post to self.
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'"
    ),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
}

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    # Every template, HTML or SVG, and every string rendered from one, is escaped.
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_page(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """The page with a form token for its forms (set as a cookie the first time)."""
    token, new = csrf_token(request)
    html = environment.get_template(template).render(csrf=token, **context)
    # NUL is valid in stored text but a parse error in HTML: shown as U+FFFD, as browsers would.
    html = html.replace("\x00", "\ufffd")
    response = HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
    if new:
        set_csrf_cookie(request, response, token)
    return response
