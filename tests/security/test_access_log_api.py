"""Read accountability over HTTP: reads through GraphQL and exports are logged; HROs query them.

The app keeps an ``AccessRecorder`` in ``app.state.access_recorder``; the reading facade records
into it and ``accessLog(partnerId, from, to)`` serves what it saved.
"""

from __future__ import annotations

from typing import Any

from security.access_log import AccessRecorder
from tests.api.conftest import Api, raw
from tests.api.conftest import api as api  # the HTTP fixture, shared
from tests.api.scenario import register

ACCESS_LOG = """query($p: ID!, $from: Date, $to: Date) {
  accessLog(partnerId: $p, from: $from, to: $to) { readAt actorId actorRole operation } }"""


def recorder_of(api: Api) -> AccessRecorder:
    app: Any = api.client.app
    found = getattr(app.state, "access_recorder", None)
    assert isinstance(found, AccessRecorder)
    return found


def logged(api: Api, partner: str) -> list[dict[str, Any]]:
    recorder = recorder_of(api)
    position = recorder.flush() or recorder.last_position  # the flush thread may have saved them
    assert position is not None
    api.follower.wait_until_projected(position)
    entries: list[dict[str, Any]] = api.data(ACCESS_LOG, {"p": partner})["accessLog"]
    return entries


def test_every_read_of_a_partners_record_is_logged_with_who_and_how(api: Api) -> None:
    recorder_of(api)
    partner = register(api, "Yei Women Mediators")
    api.data(
        "query($p: ID!) { partner(id: $p) { name } }",
        {"p": partner},
        role="evaluator",
        subject="eva",
    )
    api.data("{ partners { edges { node { id } } } }", role="recorder", subject="rick")
    api.data("{ me { role } }", role="partner", org=raw(partner), subject="yei-user")
    api.data(
        "query($p: ID!) { partner(id: $p) { name } }",
        {"p": partner},
        role="partner",
        org=raw(partner),
        subject="yei-user",
    )
    token = api.token("human_rights_officer", subject="hana")
    export = api.client.get(
        f"/partners/{partner}/timeline.csv", headers={"Authorization": f"Bearer {token}"}
    )
    assert export.status_code == 200
    entries = logged(api, partner)
    seen = {(e["actorId"], e["actorRole"], e["operation"]) for e in entries}
    assert ("eva", "evaluator", "partner") in seen
    assert ("rick", "recorder", "partners") in seen
    assert ("yei-user", "partner", "partner") in seen
    assert ("hana", "human_rights_officer", "export") in seen
    assert all(e["readAt"] for e in entries)


def test_only_human_rights_officers_may_read_the_access_log(api: Api) -> None:
    recorder_of(api)
    partner = register(api, "Yambio Youth Council")
    for role in ("recorder", "evaluator", "admin"):
        error = api.error(ACCESS_LOG, {"p": partner}, role=role)
        assert error["extensions"]["code"] == "FORBIDDEN"
    error = api.error(ACCESS_LOG, {"p": partner}, role="partner", org=raw(partner))
    assert error["extensions"]["code"] == "FORBIDDEN"


def test_the_access_log_filters_by_period(api: Api) -> None:
    recorder_of(api)
    partner = register(api, "Torit Peace Committee")
    api.data("query($p: ID!) { partner(id: $p) { name } }", {"p": partner}, role="evaluator")
    assert logged(api, partner)
    none = api.data(ACCESS_LOG, {"p": partner, "from": "2000-01-01", "to": "2000-12-31"})
    assert none["accessLog"] == []
