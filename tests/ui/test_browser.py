"""The pages in a real browser: each role signs in, opens the pages and sees what it may.

Screenshots land in docs/screenshots/ (the README links them).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from domain.actors import ADMIN, EVALUATOR, HUMAN_RIGHTS_OFFICER, PARTNER, RECORDER
from tests.ui.browser import SCREENSHOTS, LiveRegistry, partner_id

pytestmark = pytest.mark.browser

KHRD = "khrd"  # Kivu Human Rights Defenders Collective (fictional): assessments, a review
GNWP = "gnwp"  # Global Network of Women Peacebuilders: month- and year-precision roundtables


def sign_in(page: Any, live: LiveRegistry, role: str, org: str | None = None) -> None:
    page.goto(f"{live.base_url}/ui/sign-in")
    page.get_by_label("Bearer token").fill(live.token(role, org, subject=f"ui-{role}"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    found = context.new_page()
    try:
        yield found
    finally:
        context.close()


def shot(page: Any, name: str, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def test_pages_send_an_anonymous_browser_to_the_sign_in_form(page: Any, live: LiveRegistry) -> None:
    page.goto(f"{live.base_url}/ui/partners/{partner_id(KHRD)}")
    assert "/ui/sign-in" in page.url
    assert page.get_by_role("heading", name="Sign in with your token").is_visible()
    assert page.locator("svg.chart").count() == 0
    shot(page, "sign-in", full_page=False)


def test_a_forged_token_is_refused_with_the_apis_message(page: Any, live: LiveRegistry) -> None:
    page.goto(f"{live.base_url}/ui/sign-in")
    page.get_by_label("Bearer token").fill("eyJhbGciOiJFZERTQSJ9.e30.c2lnbmF0dXJl")
    page.get_by_role("button", name="Sign in").click()
    assert "The token was refused" in page.get_by_role("alert").inner_text()
    assert "/ui/sign-in" in page.url


def test_a_human_rights_officer_sees_a_partners_timeline_with_spans_late_marks_and_ratings(
    page: Any, live: LiveRegistry
) -> None:
    sign_in(page, live, HUMAN_RIGHTS_OFFICER)
    page.goto(f"{live.base_url}/ui/partners/{partner_id(KHRD)}")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Kivu Human Rights")
    chart = page.locator("svg#partner-timeline")
    assert chart.is_visible()
    for lane in ("engagements", "assessments", "decisions", "reviews"):
        assert chart.locator(f'g[data-lane="{lane}"] a.mark').count() >= 1, lane
    # Assessments coloured by rating; the rating chart and both tables are there.
    assert (
        chart.locator("a.mark.tone-significant, a.mark.tone-high, a.mark.tone-medium").count() >= 1
    )
    assert page.locator("svg#risk-chart a.mark").count() >= 2
    # A day-precision entry is a point.
    assert chart.locator('a.mark[data-precision="day"] circle.shape').count() >= 1
    assert page.get_by_role("table", name="Timeline of Kivu").is_visible()
    assert page.locator("table#risk-table tbody tr").count() >= 2
    # Demo data is recorded years after it happened: entries are marked as recorded later.
    assert chart.locator("a.mark.late path.late-flag").count() >= 1
    assert page.locator("#timeline-table .late-badge").count() >= 1
    # Each entry links to its history and its inclusion proof.
    first_row = page.locator("#timeline-table tbody tr").first
    assert "/ui/history/" in first_row.get_by_role("link", name="History").first.get_attribute(
        "href"
    )
    proof = first_row.get_by_role("link", name="Inclusion proof").first.get_attribute("href")
    assert proof.startswith("/ui/proofs/")
    shot(page, "partner-timeline-human-rights-officer")


def test_month_and_year_dates_are_drawn_as_spans(page: Any, live: LiveRegistry) -> None:
    sign_in(page, live, RECORDER)
    page.goto(f"{live.base_url}/ui/partners/{partner_id(GNWP)}")
    chart = page.locator("svg#partner-timeline")
    month = chart.locator('a.mark[data-precision="month"]')
    year = chart.locator('a.mark[data-precision="year"]')
    assert month.count() >= 5
    assert year.count() >= 1
    assert month.locator("rect.shape").count() == month.count()
    assert year.locator("rect.shape").count() == year.count()
    month_width = float(month.first.locator("rect").get_attribute("width"))
    year_width = float(year.first.locator("rect").get_attribute("width"))
    assert year_width > 8 * month_width
    assert page.locator("#timeline-table").get_by_text("year (whole year)").count() >= 1
    shot(page, "partner-timeline-spans-recorder")


def test_tab_reaches_the_skip_link_then_the_chart_entries(page: Any, live: LiveRegistry) -> None:
    sign_in(page, live, HUMAN_RIGHTS_OFFICER)
    page.goto(f"{live.base_url}/ui/partners/{partner_id(KHRD)}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
    page.keyboard.press("Enter")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('mark')"):
            break
    else:
        pytest.fail("Tab never reached an entry of the chart")
    label = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert label
    href = page.evaluate("document.activeElement.getAttribute('href')")
    shot(page, "keyboard-focus-on-entry", full_page=False)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/ui/history/" in page.url
    assert href.split("#")[0] in page.url


def test_an_evaluator_sees_pseudonyms_not_actor_ids(page: Any, live: LiveRegistry) -> None:
    sign_in(page, live, EVALUATOR)
    page.goto(f"{live.base_url}/ui/partners/{partner_id('jwpn')}")
    actors = page.locator("#timeline-table .actor").all_inner_texts()
    assert actors
    assert all(a.startswith("pseud-") for a in actors), actors
    assert "demo-human-rights-officer" not in page.content()
    contacts = page.locator("table.contacts .contact-name").all_inner_texts()
    assert contacts
    assert all(c.startswith("pseud-") for c in contacts), contacts
    shot(page, "partner-timeline-evaluator")


def test_a_partner_sees_its_own_page_and_not_another(page: Any, live: LiveRegistry) -> None:
    own = partner_id(KHRD)
    sign_in(page, live, PARTNER, org=own)
    assert page.url.endswith(f"/ui/partners/{own}")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Kivu Human Rights")
    assert page.locator("svg#partner-timeline a.mark").count() >= 1
    shot(page, "partner-own-page")
    response = page.goto(f"{live.base_url}/ui/partners/{partner_id(GNWP)}")
    assert response.status == 404
    assert "Global Network of Women" not in page.content()
    page.goto(f"{live.base_url}/ui/timeline")
    names = set(
        page.locator("#portfolio-table tbody td a[href^='/ui/partners/']").all_inner_texts()
    )
    assert names == {"KHRD"}, names
    # Partners may check their own events' inclusion proofs, never another partner's.
    page.goto(f"{live.base_url}/ui/partners/{own}")
    proof = page.locator("#timeline-table tbody tr").first.get_by_role(
        "link", name="Inclusion proof"
    )
    assert proof.count() == 1
    open_proof_page(page, live, proof.get_attribute("href"))
    assert page.locator("pre.checkpoint").is_visible()
    foreign = page.goto(f"{live.base_url}/ui/proofs/{partner_id(GNWP)}:1")
    assert foreign.status == 404


def test_the_portfolio_filters_by_dates_kinds_and_partner_kinds(
    page: Any, live: LiveRegistry
) -> None:
    sign_in(page, live, EVALUATOR)
    page.goto(f"{live.base_url}/ui/timeline")
    assert page.locator("svg#portfolio-timeline a.mark").count() > 10
    page.get_by_role("textbox", name="From", exact=True).fill("2019")
    page.get_by_role("textbox", name="To", exact=True).fill("2019")
    page.get_by_role("checkbox", name="Engagements", exact=True).check()
    page.get_by_role("checkbox", name="women's group", exact=True).check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_load_state()
    assert "from=2019" in page.url
    assert "partner_kind=women" in page.url
    whens = page.locator(
        "#portfolio-table tbody tr td:first-child time:first-child"
    ).all_inner_texts()
    assert whens
    assert all(w.startswith("2019") for w in whens), whens
    assert page.get_by_role("checkbox", name="women's group", exact=True).is_checked()
    shot(page, "portfolio-filtered-evaluator", full_page=False)
    page.goto(f"{live.base_url}/ui/timeline")
    shot(page, "portfolio-evaluator", full_page=False)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("figure.chart-figure").screenshot(path=str(SCREENSHOTS / "portfolio-chart.png"))


def test_an_administrator_sees_the_profile_but_no_timeline(page: Any, live: LiveRegistry) -> None:
    sign_in(page, live, ADMIN)
    page.goto(f"{live.base_url}/ui/partners/{partner_id(KHRD)}")
    assert page.get_by_role("heading", name="Profile").is_visible()
    assert (
        "not open to your role"
        in page.locator("section", has=page.get_by_role("heading", name="Timeline")).inner_text()
    )
    response = page.goto(f"{live.base_url}/ui/timeline")
    assert response.status == 403


def test_history_page_lists_every_event_of_a_decision(page: Any, live: LiveRegistry) -> None:
    sign_in(page, live, HUMAN_RIGHTS_OFFICER)
    page.goto(f"{live.base_url}/ui/partners/{partner_id(KHRD)}")
    page.locator("#timeline-table tbody tr", has_text="decision reviewed").get_by_role(
        "link", name="History"
    ).first.click()
    page.wait_for_load_state()
    assert page.locator("table.history tbody tr").count() >= 3
    shot(page, "history-human-rights-officer")


def test_sign_out_forgets_the_token(page: Any, live: LiveRegistry) -> None:
    sign_in(page, live, RECORDER)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert "You are signed out" in page.content()
    page.goto(f"{live.base_url}/ui/timeline")
    assert "/ui/sign-in" in page.url


def test_print_stylesheet_hides_navigation(page: Any, live: LiveRegistry) -> None:
    sign_in(page, live, HUMAN_RIGHTS_OFFICER)
    page.goto(f"{live.base_url}/ui/partners/{partner_id(KHRD)}")
    page.emulate_media(media="print")
    assert not page.get_by_role("button", name="Sign out").is_visible()
    assert page.locator("svg#partner-timeline").is_visible()
    shot(page, "partner-timeline-print")


def open_proof_page(page: Any, live: LiveRegistry, href: str) -> None:
    """Open a proof page; the ledger keeper signs a checkpoint within seconds of the demo data."""
    for _ in range(60):
        response = page.goto(f"{live.base_url}{href}")
        if response.status == 200:
            return
        assert response.status == 404, response.status
        page.wait_for_timeout(250)
    pytest.fail(f"{href} stayed not found: the ledger never signed a checkpoint")


def test_an_inclusion_proof_page_shows_the_checkpoint_path_key_and_the_offline_check(
    page: Any, live: LiveRegistry
) -> None:
    sign_in(page, live, HUMAN_RIGHTS_OFFICER)
    page.goto(f"{live.base_url}/ui/partners/{partner_id(KHRD)}")
    link = page.locator("#timeline-table tbody tr").first.get_by_role(
        "link", name="Inclusion proof"
    )
    open_proof_page(page, live, link.get_attribute("href"))
    assert page.get_by_role("heading", level=1).inner_text() == "Inclusion proof"
    note = page.locator("pre.checkpoint").inner_text()
    assert note.startswith("partnership-registry/ledger\n")
    assert "\u2014 " in note  # the signature line of the signed note
    tree_size = int(page.locator("dd.tree-size").inner_text())
    assert tree_size == int(note.splitlines()[1])
    assert 0 <= int(page.locator("dd.leaf-index").inner_text()) < tree_size
    assert page.locator("ol.proof-path li").count() >= 1
    key = page.locator("code.verifier-key").inner_text()
    assert key.startswith("partnership-registry/ledger+")
    command = page.locator("pre.command").inner_text()
    assert command.startswith(f"registry verify-proof --public-key {key} --checkpoint ")
    download = page.get_by_role("link", name="Download the proof (JSON)")
    assert download.get_attribute("href").endswith(f".json?size={tree_size}")
    shot(page, "inclusion-proof")
