"""Hypothesis-generated text for mutations: no INTERNAL error; what is accepted reads back verbatim.

Unicode edge cases (RTL, combining marks, NUL), injection strings and oversize values either
come back exactly as sent or are refused with a typed error (VALIDATION and friends).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import Api

pytestmark = pytest.mark.slow

NASTY = [
    "مركز السلام للنساء",  # RTL
    "e\u0301\u0301\u0301 combining",
    "nul\x00inside",
    '=HYPERLINK("http://evil")',
    "+cmd|' /C calc'!A0",
    "<script>alert(1)</script>",
    "'; DROP TABLE events; --",
    "\u202eRTL override",
    "x" * 5000,
    "\ud7ff\ue000\U0010ffff",
    "",
    " ",
]
TEXT = st.one_of(st.sampled_from(NASTY), st.text(max_size=400))
TYPED = {"VALIDATION", "RULE_VIOLATION", "NOT_FOUND", "CONFLICT", "FORBIDDEN"}

REGISTER = """mutation($n: String!, $k: String!, $s: String!, $a: String!, $m: String!, $on: String) {
  registerPartner(name: $n, kind: $k, scope: $s, acronym: $a, missionContext: $m, on: $on)
  { id name acronym missionContext } }"""


def _typed_or_data(body: dict[str, Any]) -> None:
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code in TYPED, error


def test_generated_partner_inputs_are_stored_verbatim_or_refused_with_a_typed_error(
    api: Api,
) -> None:
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        name=TEXT,
        kind=st.one_of(st.just("local CSO"), TEXT),
        scope=st.one_of(st.just("local"), TEXT),
        acronym=TEXT,
        mission=TEXT,
        on=st.one_of(
            st.none(),
            st.sampled_from(
                ["2020", "2020-02", "2020-02-30", "20-1-1", "9999-99", "2019-13-01", "yesterday"]
            ),
        ),
    )
    def check(name: str, kind: str, scope: str, acronym: str, mission: str, on: str | None) -> None:
        variables = {"n": name, "k": kind, "s": scope, "a": acronym, "m": mission, "on": on}
        body = api.gql(REGISTER, variables, role="recorder")
        _typed_or_data(body)
        if not body.get("errors"):
            created = body["data"]["registerPartner"]
            # Surrounding whitespace is trimmed (domain/validation.check_text), nothing else.
            assert created["acronym"] == acronym.strip()
            assert created["missionContext"] == mission.strip()

    check()


@pytest.mark.parametrize("text", NASTY[:8])
def test_injection_and_unicode_names_read_back_verbatim_or_are_refused(api: Api, text: str) -> None:
    body = api.gql(
        REGISTER,
        {"n": text, "k": "local CSO", "s": "local", "a": "", "m": "", "on": None},
        role="recorder",
    )
    _typed_or_data(body)
    if not body.get("errors"):
        assert body["data"]["registerPartner"]["name"] == text.strip()
