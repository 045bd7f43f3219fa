"""The permission matrix: every role x operation, field classes, scope, pseudonyms, README table."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.actors import ADMIN, EVALUATOR, HUMAN_RIGHTS_OFFICER, PARTNER, RECORDER, SYSTEM, Actor
from domain.errors import Forbidden
from security import permissions, pseudonyms
from security.permissions import (
    CONFIDENTIAL,
    INTERNAL,
    OPERATIONS,
    PERSONAL,
    check,
    may_see,
    partner_scope,
    pseudonym,
)

QUERIES = (
    "partners", "partner", "timeline", "decision", "riskRegister", "history", "me", "accessLog",
    "export", "checkpoint", "inclusionProof", "consistencyProof",
)  # fmt: skip
MUTATIONS = (
    "registerPartner", "updateProfile", "updateActorMapping", "addContactPerson",
    "removeContactPerson", "activatePartner", "suspendPartner", "reinstatePartner",
    "closePartner", "recordEngagement", "correctEngagement", "addFollowUp", "completeFollowUp",
    "openRiskAssessment", "addRisk", "addMitigation", "updateMitigationStatus",
    "submitRiskAssessment", "finaliseRiskAssessment", "supersedeRiskAssessment",
    "withdrawRiskAssessment", "proposeDecision", "decide", "recordDissent",
    "recordCommunication", "reviewDecision", "erasePersonalData",
)  # fmt: skip

# The expected matrix, written out independently of the module: the roles allowed per operation.
R, H, E, P, A = RECORDER, HUMAN_RIGHTS_OFFICER, EVALUATOR, PARTNER, ADMIN
EXPECTED: dict[str, set[str]] = {
    "me": {R, H, E, P, A},
    "partners": {R, H, E, P, A},
    "partner": {R, H, E, P, A},
    "timeline": {R, H, E, P},
    "decision": {R, H, E, P},
    "riskRegister": {R, H, E},
    "history": {R, H, E, A},
    "accessLog": {H},
    "export": {R, H, E, P},
    "checkpoint": {R, H, E, P, A},
    "inclusionProof": {R, H, E, P, A},
    "consistencyProof": {R, H, E, P, A},
    "suspendPartner": {H},
    "reinstatePartner": {H},
    "openRiskAssessment": {H},
    "addRisk": {H},
    "addMitigation": {H},
    "updateMitigationStatus": {H},
    "submitRiskAssessment": {H},
    "finaliseRiskAssessment": {H},
    "supersedeRiskAssessment": {H},
    "withdrawRiskAssessment": {H},
    "decide": {H},
    "reviewDecision": {H},
    "erasePersonalData": {A},
}
for _name in MUTATIONS:
    EXPECTED.setdefault(_name, {R, H})

ROLES = (R, H, E, P, A)


def actor(role: str, org: str | None = None) -> Actor:
    if role == PARTNER and org is None:
        org = "partner-1"
    return Actor(subject_id=f"{role}-1", role=role, organisation_id=org)


def test_the_matrix_covers_every_query_and_mutation_and_nothing_else() -> None:
    assert set(OPERATIONS) == set(QUERIES) | set(MUTATIONS)
    assert {n for n, r in OPERATIONS.items() if r.kind == "query"} == set(QUERIES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", [*QUERIES, *MUTATIONS])
def test_each_role_may_run_exactly_the_operations_it_is_granted(role: str, operation: str) -> None:
    caller = actor(role)
    if role in EXPECTED[operation]:
        check(caller, operation)
    else:
        with pytest.raises(Forbidden) as refused:
            check(caller, operation)
        assert role in refused.value.message
        assert operation in refused.value.message
        assert refused.value.code == "FORBIDDEN"


def test_partners_may_run_no_mutation() -> None:
    for operation in MUTATIONS:
        with pytest.raises(Forbidden):
            check(actor(PARTNER), operation)


def test_unknown_operations_and_the_system_role_are_refused() -> None:
    with pytest.raises(Forbidden):
        check(actor(HUMAN_RIGHTS_OFFICER), "dropEverything")
    with pytest.raises(Forbidden):
        check(Actor("registry", SYSTEM), "partners")


def test_a_partner_token_is_scoped_to_its_own_organisation() -> None:
    assert partner_scope(actor(PARTNER, "org-a")) == frozenset({"org-a"})


@pytest.mark.parametrize("role", [R, H, E, A])
def test_staff_roles_see_every_partner(role: str) -> None:
    assert partner_scope(actor(role)) is None


def test_the_system_role_sees_no_partner_through_the_api() -> None:
    assert partner_scope(Actor("registry", SYSTEM)) == frozenset()


def test_confidential_fields_are_for_human_rights_officers_only() -> None:
    assert [r for r in ROLES if may_see(actor(r), CONFIDENTIAL, "partner-1")] == [H]


def test_personal_data_is_for_officers_recorders_and_the_partner_itself() -> None:
    assert may_see(actor(H), PERSONAL)
    assert may_see(actor(R), PERSONAL)
    assert may_see(actor(P, "org-a"), PERSONAL, owner="org-a")
    assert not may_see(actor(P, "org-a"), PERSONAL, owner="org-b")
    assert not may_see(actor(P, "org-a"), PERSONAL)  # owner unknown: refuse
    assert not may_see(actor(E), PERSONAL)
    assert not may_see(actor(A), PERSONAL)


def test_internal_fields_are_hidden_from_partners_even_on_their_own_record() -> None:
    assert not may_see(actor(P, "org-a"), INTERNAL, owner="org-a")
    assert all(may_see(actor(r), INTERNAL) for r in (R, H, E, A))


def test_an_unknown_field_class_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="field class"):
        may_see(actor(H), "secret-ish")


def test_evaluators_see_stable_distinct_pseudonyms_others_the_subject() -> None:
    pseudonyms.configure(b"k" * 32)
    evaluator = actor(E)
    first = pseudonym(evaluator, "officer-7")
    assert first == pseudonym(evaluator, "officer-7")
    assert first.startswith("pseud-")
    assert "officer-7" not in first
    assert first != pseudonym(evaluator, "officer-8")
    for role in (R, H, P, A):
        assert pseudonym(actor(role), "officer-7") == "officer-7"


def test_pseudonyms_depend_on_the_key_and_survive_a_restart_with_the_same_key() -> None:
    master = bytes(range(32))
    pseudonyms.configure(pseudonyms.key_from_master(master))
    before = pseudonym(actor(E), "person-1")
    pseudonyms.configure(b"other key, other pseudonyms!!!!!")
    assert pseudonym(actor(E), "person-1") != before
    pseudonyms.configure(pseudonyms.key_from_master(master))
    assert pseudonym(actor(E), "person-1") == before


def test_pseudonyms_of_many_subjects_do_not_collide() -> None:
    pseudonyms.configure(b"k" * 32)
    seen = {pseudonym(actor(E), f"person-{i}") for i in range(10_000)}
    assert len(seen) == 10_000


def test_the_readme_prints_the_generated_matrix() -> None:
    readme = Path(__file__).resolve().parents[2] / "README.md"
    table = permissions.table_in(readme.read_text())
    assert table is not None, "README.md lacks the <!-- permissions:start/end --> markers"
    assert table == permissions.markdown_table(), (
        "README's table is stale: run `python -m security.permissions README.md`"
    )


def test_regenerating_the_readme_keeps_the_rest_of_it() -> None:
    text = (
        "# Title\n\nintro\n\n<!-- permissions:start -->\nold\n<!-- permissions:end -->\n\nafter\n"
    )
    rewritten = permissions.with_table(text)
    assert rewritten.startswith("# Title\n\nintro\n\n")
    assert rewritten.endswith("\n\nafter\n")
    assert permissions.table_in(rewritten) == permissions.markdown_table()
    assert permissions.with_table(rewritten) == rewritten
