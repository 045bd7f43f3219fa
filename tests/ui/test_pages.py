"""The pages over HTTP on both backends: sign-in, CSRF, isolation, escaping of hostile text.

No browser here: these run everywhere ``make test`` runs (the browser tests are test_browser.py).
"""

from __future__ import annotations

import re
from typing import Any

from api.ui.session import CSRF_COOKIE, TOKEN_COOKIE
from tests.api.conftest import Api, raw
from tests.api.conftest import api as api  # the HTTP fixture on each backend, shared
from tests.api.scenario import register

HOSTILE = """<script>alert("x")</script><img src=x onerror=alert(1)>&amp;"'"""


def sign_in(api: Api, role: str, org: str | None = None, subject: str | None = None) -> None:
    api.client.cookies.clear()
    form = api.client.get("/ui/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    response = api.client.post(
        "/ui/sign-in",
        data={"token": api.token(role, org, subject), "csrf": csrf.group(1), "next": "/ui/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def hostile_partner(api: Api) -> tuple[str, str]:
    partner = register(api, f"Yei {HOSTILE}")
    engagement = api.data(
        """mutation($p: ID!, $t: String!) { recordEngagement(input: {kind: "roundtable",
             title: $t, on: "2024-03", partners: [{partnerId: $p, role: "convener"}]}) { id } }""",
        {"p": partner, "t": HOSTILE},
        role="recorder",
    )["recordEngagement"]["id"]
    return raw(partner), engagement


def test_pages_redirect_an_anonymous_browser_to_sign_in_and_serve_no_data(api: Api) -> None:
    partner = raw(register(api, "Torit Peace Women"))
    for path in (f"/ui/partners/{partner}", "/ui/timeline", f"/ui/history/{partner}", "/ui/"):
        response = api.client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/ui/sign-in?next=")
        assert "Torit" not in response.text


def test_a_bearer_header_alone_does_not_open_the_pages(api: Api) -> None:
    response = api.client.get(
        "/ui/timeline",
        headers={"Authorization": f"Bearer {api.token('recorder')}"},
        follow_redirects=False,
    )
    assert response.status_code == 303


def test_sign_in_keeps_the_token_in_an_httponly_strict_cookie(api: Api) -> None:
    form = api.client.get("/ui/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    response = api.client.post(
        "/ui/sign-in",
        data={"token": api.token("evaluator"), "csrf": csrf.group(1), "next": "/ui/timeline"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/timeline"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(TOKEN_COOKIE + "=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/ui" in cookie
    assert "Secure" not in cookie  # plain http here; https requests get Secure


def test_sign_in_without_the_form_token_or_from_another_origin_is_refused(api: Api) -> None:
    api.client.get("/ui/sign-in")
    token = api.token("recorder")
    missing = api.client.post("/ui/sign-in", data={"token": token}, follow_redirects=False)
    assert missing.status_code == 403
    csrf = api.client.cookies.get(CSRF_COOKIE)
    foreign = api.client.post(
        "/ui/sign-in",
        data={"token": token, "csrf": csrf},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert foreign.status_code == 403
    assert TOKEN_COOKIE not in (foreign.headers.get("set-cookie") or "")


def test_a_forged_token_is_refused_with_401(api: Api) -> None:
    api.client.get("/ui/sign-in")
    response = api.client.post(
        "/ui/sign-in",
        data={"token": "not.a.token", "csrf": api.client.cookies.get(CSRF_COOKIE)},
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert "The token was refused" in response.text


def test_sign_in_never_redirects_off_site(api: Api) -> None:
    api.client.get("/ui/sign-in")
    for target in ("https://evil.example/", "//evil.example/ui/", "/ui/\\evil"):
        response = api.client.post(
            "/ui/sign-in",
            data={
                "token": api.token("recorder"),
                "csrf": api.client.cookies.get(CSRF_COOKIE),
                "next": target,
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == "/ui/timeline", target


def test_hostile_titles_and_names_are_escaped_in_html_and_svg(api: Api) -> None:
    partner, _ = hostile_partner(api)
    sign_in(api, "human_rights_officer")
    for path in (f"/ui/partners/{partner}", "/ui/timeline"):
        page = api.client.get(path)
        assert page.status_code == 200
        assert "<script>" not in page.text, path
        assert "<img" not in page.text, path
        assert "&lt;script&gt;alert(" in page.text, path
        svg = page.text[page.text.index("<svg") : page.text.index("</svg>")]
        assert "&lt;script&gt;" in svg
        assert "<script" not in svg
        assert "script-src" not in page.headers["content-security-policy"]
        assert "default-src 'none'" in page.headers["content-security-policy"]


def test_a_partner_reads_its_own_page_and_gets_not_found_on_another(api: Api) -> None:
    own = raw(register(api, "Maridi Youth Forum"))
    other = raw(register(api, "Nzara Women Traders"))
    sign_in(api, "partner", org=own)
    mine = api.client.get(f"/ui/partners/{own}")
    assert mine.status_code == 200
    assert "Maridi Youth Forum" in mine.text
    theirs = api.client.get(f"/ui/partners/{other}")
    assert theirs.status_code == 404
    assert "Nzara" not in theirs.text
    portfolio = api.client.get("/ui/timeline")
    assert "Nzara" not in portfolio.text
    history = api.client.get(f"/ui/history/{own}")
    assert history.status_code == 403


def test_an_evaluator_sees_pseudonyms_for_who_recorded(api: Api) -> None:
    partner = raw(register(api, "Kajo Keji Mediators"))
    sign_in(api, "evaluator")
    page = api.client.get(f"/ui/partners/{partner}")
    actors = re.findall(r'<span class="actor">([^<]*)</span>', page.text)
    assert actors
    assert all(a.startswith("pseud-") for a in actors)
    assert "test-recorder" not in page.text


def test_filters_that_do_not_parse_are_explained(api: Api) -> None:
    sign_in(api, "recorder")
    page = api.client.get("/ui/timeline", params={"from": "March"})
    assert page.status_code == 400
    assert "is not a date" in page.text


def test_page_reads_are_logged_like_api_reads(api: Api) -> None:
    partner = raw(register(api, "Wau Justice Network"))
    sign_in(api, "evaluator", subject="eve-ui")
    assert api.client.get(f"/ui/partners/{partner}").status_code == 200
    recorder: Any = getattr(api.client.app.state, "access_recorder", None)  # type: ignore[attr-defined]
    assert recorder is not None, "the app records reads in app.state.access_recorder"
    position = recorder.flush()
    api.follower.wait_until_projected(position)
    entries = api.data(
        "query($p: ID!) { accessLog(partnerId: $p) { actorId operation } }",
        {"p": ids_partner(partner)},
    )["accessLog"]
    assert any(e["actorId"] == "eve-ui" for e in entries), entries


def ids_partner(raw_id: str) -> str:
    from api.graphql import ids

    return ids.encode(ids.PARTNER, raw_id)
