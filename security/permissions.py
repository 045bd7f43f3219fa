"""The permission matrix (role x operation x field class), declared once, and its checks.

Views and the reading facade ask here; the README's table is generated from ``OPERATIONS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from domain.actors import ADMIN, EVALUATOR, HUMAN_RIGHTS_OFFICER, PARTNER, RECORDER, Actor
from domain.errors import Forbidden
from security import pseudonyms

ROLES = (RECORDER, HUMAN_RIGHTS_OFFICER, EVALUATOR, PARTNER, ADMIN)
"""Roles a token can carry, in the order the README's table shows them."""

Access = Literal["all", "own", "none"]
"""``all``: every partner's data; ``own``: the caller's own organisation only; ``none``."""

CONFIDENTIAL = "confidential"
PERSONAL = "personal"
INTERNAL = "internal"


@dataclass(frozen=True)
class Rule:
    """Who may run one operation: ``all`` or ``own`` (partner-scoped) per role."""

    kind: Literal["query", "mutation"]
    summary: str
    access: dict[str, Access]

    def for_role(self, role: str) -> Access:
        return self.access.get(role, "none")


def _q(summary: str, **access: Access) -> Rule:
    return Rule("query", summary, access)


def _m(summary: str, **access: Access) -> Rule:
    return Rule("mutation", summary, access)


# fmt: off
# One line per operation; keyword names are the roles. Anything not listed is refused.
OPERATIONS: dict[str, Rule] = {
    # queries
    "me":                 _q("the caller's identity", recorder="all", human_rights_officer="all", evaluator="all", partner="own", admin="all"),
    "partners":           _q("page of partners", recorder="all", human_rights_officer="all", evaluator="all", partner="own", admin="all"),
    "partner":            _q("one partner's record", recorder="all", human_rights_officer="all", evaluator="all", partner="own", admin="all"),
    "timeline":           _q("events across partners", recorder="all", human_rights_officer="all", evaluator="all", partner="own"),
    "decision":           _q("one due-diligence decision", recorder="all", human_rights_officer="all", evaluator="all", partner="own"),
    "riskRegister":       _q("ratings, open mitigations, overdue reviews", recorder="all", human_rights_officer="all", evaluator="all"),
    "history":            _q("every event of one record", recorder="all", human_rights_officer="all", evaluator="all", admin="all"),
    "accessLog":          _q("who read a partner's record", human_rights_officer="all"),
    "export":             _q("timeline export (CSV, JSON)", recorder="all", human_rights_officer="all", evaluator="all", partner="own"),
    "checkpoint":         _q("signed ledger checkpoint", recorder="all", human_rights_officer="all", evaluator="all", partner="all", admin="all"),
    "inclusionProof":     _q("proof an event is in the ledger", recorder="all", human_rights_officer="all", evaluator="all", partner="own", admin="all"),
    "consistencyProof":   _q("proof the ledger only grew", recorder="all", human_rights_officer="all", evaluator="all", partner="all", admin="all"),
    # mutations: partners
    "registerPartner":    _m("register a partner", recorder="all", human_rights_officer="all"),
    "updateProfile":      _m("replace a partner's profile", recorder="all", human_rights_officer="all"),
    "updateActorMapping": _m("interest, influence, stance, relations", recorder="all", human_rights_officer="all"),
    "addContactPerson":   _m("add a contact person", recorder="all", human_rights_officer="all"),
    "removeContactPerson": _m("remove a contact person", recorder="all", human_rights_officer="all"),
    "activatePartner":    _m("activate a partner", recorder="all", human_rights_officer="all"),
    "suspendPartner":     _m("suspend a partner", human_rights_officer="all"),
    "reinstatePartner":   _m("reinstate a partner", human_rights_officer="all"),
    "closePartner":       _m("close a partner", recorder="all", human_rights_officer="all"),
    # mutations: engagements
    "recordEngagement":   _m("record an engagement", recorder="all", human_rights_officer="all"),
    "correctEngagement":  _m("correct an engagement", recorder="all", human_rights_officer="all"),
    "addFollowUp":        _m("add a follow-up action", recorder="all", human_rights_officer="all"),
    "completeFollowUp":   _m("complete a follow-up action", recorder="all", human_rights_officer="all"),
    # mutations: risk assessments
    "openRiskAssessment": _m("open a risk assessment", human_rights_officer="all"),
    "addRisk":            _m("add a risk", human_rights_officer="all"),
    "addMitigation":      _m("add a mitigation measure", human_rights_officer="all"),
    "updateMitigationStatus": _m("change a mitigation's status", human_rights_officer="all"),
    "submitRiskAssessment": _m("submit an assessment", human_rights_officer="all"),
    "finaliseRiskAssessment": _m("finalise an assessment", human_rights_officer="all"),
    "supersedeRiskAssessment": _m("supersede an assessment", human_rights_officer="all"),
    "withdrawRiskAssessment": _m("withdraw an assessment", human_rights_officer="all"),
    # mutations: due-diligence decisions
    "proposeDecision":    _m("propose a decision", recorder="all", human_rights_officer="all"),
    "decide":             _m("decide a proposal", human_rights_officer="all"),
    "recordDissent":      _m("record dissent", recorder="all", human_rights_officer="all"),
    "recordCommunication": _m("record communication to the partner", recorder="all", human_rights_officer="all"),
    "reviewDecision":     _m("review a decision", human_rights_officer="all"),
    # mutations: personal data
    "erasePersonalData":  _m("erase a person's data (crypto-shredding)", admin="all"),
}

# Field classes: which roles see fields of each class. ``own``: only on the partner's own record;
# ``pseudonym``: shown as a stable keyed pseudonym instead of the value.
FieldAccess = Literal["all", "own", "pseudonym", "none"]
FIELD_CLASSES: dict[str, tuple[str, dict[str, FieldAccess]]] = {
    CONFIDENTIAL: ("risk sources; engagement details marked confidential or restricted",
                   {HUMAN_RIGHTS_OFFICER: "all"}),
    PERSONAL:     ("contact persons, individual names",
                   {HUMAN_RIGHTS_OFFICER: "all", RECORDER: "all", PARTNER: "own", EVALUATOR: "pseudonym"}),
    INTERNAL:     ("decision rationale, dissent, risk descriptions and sources, internal notes",
                   {HUMAN_RIGHTS_OFFICER: "all", RECORDER: "all", EVALUATOR: "all", ADMIN: "all"}),
}
# fmt: on

PSEUDONYMISED_ROLES = frozenset({EVALUATOR})
"""Roles that see actor ids and persons only as pseudonyms."""


def rule(operation: str) -> Rule:
    found = OPERATIONS.get(operation)
    if found is None:
        raise Forbidden(f"unknown operation {operation!r}")
    return found


def allows(actor: Actor, operation: str) -> bool:
    """Whether ``actor``'s role may run ``operation`` at all (for partners: on their own data)."""
    found = OPERATIONS.get(operation)
    return found is not None and found.for_role(actor.role) != "none"


def check(actor: Actor, operation: str) -> None:
    """Raise ``Forbidden`` naming the role and operation unless the role may run it."""
    if not allows(actor, operation):
        raise Forbidden(f"the role {actor.role} may not run {operation}")


def partner_scope(actor: Actor) -> frozenset[str] | None:
    """Partner ids the caller may see: None for every partner, else the partner's own id."""
    if actor.role == PARTNER:
        return frozenset({actor.organisation_id}) if actor.organisation_id else frozenset()
    if actor.role in ROLES:
        return None
    return frozenset()  # the system role reads nothing through the API


def field_access(actor: Actor, field_class: str) -> FieldAccess:
    entry = FIELD_CLASSES.get(field_class)
    if entry is None:
        raise ValueError(f"unknown field class {field_class!r}; one of {sorted(FIELD_CLASSES)}")
    return entry[1].get(actor.role, "none")


def may_see(actor: Actor, field_class: str, owner: str | None = None) -> bool:
    """Whether the caller sees fields of ``field_class`` in clear.

    ``owner``: the partner the record belongs to. A partner sees its own personal data only,
    so without ``owner`` (or for another partner's record) the answer is False for partners.
    Pseudonymised roles get False: show ``pseudonym(actor, subject)`` instead.
    """
    access = field_access(actor, field_class)
    if access == "all":
        return True
    if access == "own":
        return owner is not None and owner == actor.organisation_id
    return False


def pseudonym(actor: Actor, subject: str) -> str:
    """What the caller sees for an actor id or person: a stable keyed pseudonym for evaluators."""
    if actor.role in PSEUDONYMISED_ROLES:
        return pseudonyms.pseudonym(subject)
    return subject


_ACCESS_MARK: dict[str, str] = {"all": "yes", "own": "own", "pseudonym": "pseudonym", "none": "-"}


def markdown_table() -> str:
    """The matrix as Markdown: operations by role, then field classes by role."""
    header = "| operation | kind | " + " | ".join(ROLES) + " |"
    rule_line = "|---|---|" + "---|" * len(ROLES)
    lines = [header, rule_line]
    for name, found in OPERATIONS.items():
        cells = " | ".join(_ACCESS_MARK[found.for_role(role)] for role in ROLES)
        lines.append(f"| `{name}` | {found.kind} | {cells} |")
    lines += ["", "| field class | fields | " + " | ".join(ROLES) + " |", rule_line]
    for name, (fields, by_role) in FIELD_CLASSES.items():
        cells = " | ".join(_ACCESS_MARK[by_role.get(role, "none")] for role in ROLES)
        lines.append(f"| {name} | {fields} | {cells} |")
    lines += [
        "",
        "`own`: only the partner's own organisation and the records concerning it.",
        "`pseudonym`: a stable keyed pseudonym instead of the value.",
    ]
    return "\n".join(lines) + "\n"


README_START = "<!-- permissions:start -->"
README_END = "<!-- permissions:end -->"


def with_table(readme: str) -> str:
    """``readme`` with the generated table between the markers (appended when they are absent)."""
    block = f"{README_START}\n{markdown_table()}{README_END}"
    start, end = readme.find(README_START), readme.find(README_END)
    if start < 0 or end < start:
        return readme.rstrip("\n") + "\n\n" + block + "\n"
    return readme[:start] + block + readme[end + len(README_END) :]


def table_in(readme: str) -> str | None:
    """The text between the markers, or None when they are absent."""
    start, end = readme.find(README_START), readme.find(README_END)
    if start < 0 or end < start:
        return None
    return readme[start + len(README_START) : end].strip("\n") + "\n"


if __name__ == "__main__":  # python -m security.permissions README.md: regenerate the table
    import sys
    from pathlib import Path

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    target.write_text(with_table(target.read_text() if target.exists() else ""))
