"""Timeline exports: CSV and JSON, UTF-8, dates to their precision, formulas neutralised, scoped."""

from __future__ import annotations

import csv
import io
import json

from api.exports import export_timeline, neutralised
from domain.actors import Actor
from tests.api.conftest import Api, raw
from tests.api.scenario import tell


def _get(
    api: Api, path: str, role: str = "recorder", org: str | None = None
) -> tuple[int, str, str]:
    response = api.client.get(path, headers={"Authorization": f"Bearer {api.token(role, org)}"})
    return response.status_code, response.headers.get("content-type", ""), response.text


def test_csv_export_has_precise_dates_and_neutralised_formulas(api: Api) -> None:
    story = tell(api)
    status, media, text = _get(api, f"/partners/{story.partner}/timeline.csv")
    assert status == 200
    assert media.startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    engagement = next(r for r in rows if r["kind"] == "engagement")
    assert engagement["valid_time"] == "2024-03"
    assert engagement["valid_precision"] == "month"
    registered = next(r for r in rows if r["kind"] == "partner_registered")
    assert registered["valid_time"] == "2019"
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row.values())


def test_json_export_is_utf8_and_matches_the_cli_function(api: Api) -> None:
    story = tell(api)
    status, media, text = _get(api, f"/partners/{raw(story.partner)}/timeline.json")
    assert status == 200
    assert "application/json" in media
    entries = json.loads(text)
    assert {"valid_time": "2024-03"}.items() <= next(
        e for e in entries if e["kind"] == "engagement"
    ).items()
    assert "Women" in text
    from uuid import UUID

    cli = export_timeline(api.registry, Actor("cli", "recorder"), UUID(raw(story.partner)), "json")
    assert json.loads(cli) == entries


def test_exports_are_scoped_like_every_read(api: Api) -> None:
    story = tell(api)
    own = raw(story.partner)
    assert _get(api, f"/partners/{story.partner}/timeline.json", "partner", own)[0] == 200
    assert _get(api, f"/partners/{story.other}/timeline.csv", "partner", own)[0] == 404
    assert _get(api, f"/partners/{story.partner}/timeline.csv", "admin")[0] == 403
    assert api.client.get(f"/partners/{story.partner}/timeline.csv").status_code == 401


def test_formula_cells_get_a_leading_apostrophe() -> None:
    for dangerous in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralised(dangerous) == "'" + dangerous
    assert neutralised("2020-03") == "2020-03"
