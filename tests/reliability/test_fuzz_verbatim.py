"""Hostile text is stored and returned verbatim, and escaped or neutralised where it is shown.

For each text below (RTL and RTL override, combining marks, NUL, markup, CSV formulas, SQL) on
both backends: a partner named with it, an engagement titled and summarised with it and a
suspension reason made of it are read back over GraphQL exactly as sent; the JSON export holds it
verbatim; the CSV export holds it with a leading apostrophe when it starts like a formula
(= + - @ tab CR), verbatim otherwise; the UI pages show it HTML-escaped (no raw ``<script``,
``<svg onload`` anywhere, including the SVG charts).

NUL: accepted and stored, on both backends. Payloads and the views' sealed columns are encrypted
bytes (BYTEA / BLOB), so PostgreSQL's "text cannot contain NUL" never applies; the test proves the
round trip on each backend. The one normalisation of text is ``str.strip`` of surrounding
whitespace (domain/validation.check_text), which is why a cell can only start with a tab or CR in
the CSV writer's own test below, not through a stored record.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from api.exports import FORMULA_STARTS, neutralised
from tests.api.conftest import Api, raw
from tests.api.scenario import register
from tests.ui.test_pages import sign_in

pytestmark = pytest.mark.slow

TEXTS = [
    "مركز السلام للنساء",
    "\u202eevil.exe\u202c done",
    "e\u0301\u0301\u0301 Z\u0335\u0321\u031b",
    "nul\x00inside",
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1)",
    "'; DROP TABLE events; --",
    "Robert'); DELETE FROM partners WHERE ('1'='1",
    "\U0001f600 \ufeffBOM \u200bzero-width",
]


def record(api: Api, text: str) -> tuple[str, str]:
    partner = register(api, text)
    engagement = api.data(
        """mutation($p: ID!, $t: String!) { recordEngagement(input: {kind: "roundtable",
             title: $t, summary: $t, on: "2024-03", partners: [{partnerId: $p}]}) { id } }""",
        {"p": partner, "t": text},
        role="recorder",
    )["recordEngagement"]["id"]
    api.data("mutation($p: ID!) { activatePartner(partnerId: $p) { id } }", {"p": partner},
             role="recorder")  # fmt: skip
    api.data(
        "mutation($p: ID!, $r: String!) { suspendPartner(partnerId: $p, reason: $r) { id } }",
        {"p": partner, "r": text},
    )
    return partner, engagement


@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_hostile_text_round_trips_verbatim_and_is_neutralised_in_csv(api: Api, text: str) -> None:
    partner, engagement = record(api, text)
    read = api.data(
        """query($p: ID!, $e: ID!) { partner(id: $p) { name }
             engagement(id: $e) { title summary } }""",
        {"p": partner, "e": engagement},
    )
    assert read["partner"]["name"] == text
    assert read["engagement"] == {"title": text, "summary": text}

    headers = {"Authorization": f"Bearer {api.token('human_rights_officer')}"}
    exported = api.client.get(f"/partners/{partner}/timeline.json", headers=headers)
    assert exported.status_code == 200
    records = json.loads(exported.text)
    titles = {r["title"] for r in records}
    assert {f"{text} registered", f"roundtable: {text}"} <= titles, titles
    assert text in {r["reason"] for r in records}, records

    exported = api.client.get(f"/partners/{partner}/timeline.csv", headers=headers)
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    formula = text.startswith(FORMULA_STARTS)
    assert ("'" if formula else "") + text in {row["reason"] for row in rows}, rows
    assert ("'" if formula else "") + f"{text} registered" in {row["title"] for row in rows}
    for row in rows:
        for value in row.values():
            assert not value.startswith(FORMULA_STARTS), row


def test_hostile_text_is_escaped_in_the_pages_including_svg(api: Api) -> None:
    partners = [raw(record(api, text)[0]) for text in TEXTS]
    sign_in(api, "human_rights_officer")
    pages = [f"/ui/partners/{p}" for p in partners[4:6]] + ["/ui/timeline"]
    pages += [f"/ui/history/{partners[4]}"]
    shown = ""
    for path in pages:
        page = api.client.get(path)
        assert page.status_code == 200, path
        html = page.text
        assert "<script" not in html, path
        assert not re.search(r"<svg[^>]*onload", html), path
        assert "\x00" not in html, path
        shown += html
        if "<svg" in html:
            svg = html[html.index("<svg") : html.rindex("</svg>")]
            assert "<script" not in svg, path
            assert "<svg onload" not in svg, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert "&lt;svg onload=alert(1)&gt;" in shown


@pytest.mark.parametrize(
    "value",
    ["=1+1", "+1", "-1", "@A1", "\t=1+1", "\r=1+1", '=HYPERLINK("x")', ["=1", "b"]],
)
def test_the_csv_writer_neutralises_every_formula_start(value: str | list[str]) -> None:
    cell = neutralised(value)
    assert cell.startswith("'"), cell
    assert cell[1:] == (";".join(value) if isinstance(value, list) else value)


def test_plain_cells_are_left_alone() -> None:
    for value in ("plain", "مركز", "'quoted", " =not at the start", "1-2"):
        assert neutralised(value) == value
