"""Controlled vocabularies: the words users choose from, kept exactly as they say them."""

from __future__ import annotations

from collections.abc import Iterable

from domain.errors import ValidationError

PARTNER_KINDS = frozenset(
    {
        "local CSO",
        "national NGO",
        "international NGO",
        "network",
        "women's group",
        "youth group",
        "faith-based organisation",
        "human rights defenders' group",
        "media",
        "trade union",
        "research institute",
        "think tank",
        "community-based organisation",
        "social movement",
        "community leaders",
    }
)

SCOPES = frozenset({"local", "national", "regional", "international"})

FOCUS_AREAS = frozenset(
    {
        "protection of civilians",
        "WPS",
        "YPS",
        "rule of law",
        "human rights",
        "reconciliation",
        "early warning",
        "prevention",
        "mediation",
        "development",
        "peacebuilding",
        "peace operations",
        "transitional justice",
        "governance",
        "elections",
        "humanitarian assistance",
        "child protection",
    }
)

REGISTERED = "registered"
ACTIVE = "active"
SUSPENDED = "suspended"
REINSTATED = "reinstated"
CLOSED = "closed"
LIFECYCLE_STATUSES = frozenset({REGISTERED, ACTIVE, SUSPENDED, REINSTATED, CLOSED})

STANCES = frozenset({"supportive", "neutral", "ambivalent", "critical", "opposed", "unknown"})

RELATIONSHIP_KINDS = frozenset(
    {"host state", "party to the conflict", "partner organisation", "other"}
)

ENGAGEMENT_KINDS = frozenset(
    {
        "consultation",
        "dialogue meeting",
        "roundtable",
        "online consultation",
        "joint protection team visit",
        "community alert network report",
        "civil society advisory committee meeting",
        "training or capacity building",
        "joint activity",
        "information sharing",
        "funding",
        "advisory mechanism established",
    }
)

PARTNER_ROLES = frozenset(
    {"convener", "co-facilitator", "participant", "member", "observer", "organiser"}
)

MISSION_COMPONENTS = frozenset(
    {
        "Civil Affairs",
        "Political Affairs",
        "Human Rights",
        "Gender",
        "Child Protection",
        "Rule of Law",
        "Public Information",
        "Police",
        "Force",
    }
)

CONFIDENTIALITY_LEVELS = frozenset({"public", "internal", "restricted", "confidential"})

RISK_CATEGORIES = frozenset(
    {
        "reprisal or intimidation risk to the partner",
        "harm to communities",
        "perceived partiality",
        "host-government hostility or restrictions",
        "human rights concerns about the partner",
        "sexual exploitation and abuse",
        "fraud or diversion",
        "reputational risk to the UN",
        "elite capture or unrepresentativeness",
        "unmet expectations",
    }
)

MITIGATION_STATUSES = frozenset({"planned", "in progress", "done", "dropped"})

DECISION_SCOPES = frozenset(
    {"engagement", "information sharing", "joint activity", "capacity building", "funding"}
)

APPROVED = "approved"
APPROVED_WITH_CONDITIONS = "approved with conditions"
DEFERRED = "deferred"
DECLINED = "declined"
SUSPENDED_OUTCOME = "suspended"
REVOKED = "revoked"
DECISION_OUTCOMES = frozenset(
    {APPROVED, APPROVED_WITH_CONDITIONS, DEFERRED, DECLINED, SUSPENDED_OUTCOME, REVOKED}
)
APPROVALS = frozenset({APPROVED, APPROVED_WITH_CONDITIONS})

REVIEW_OUTCOMES = frozenset({"continue", "continue with new conditions", "suspend", "revoke"})

COMMUNICATION_CHANNELS = frozenset(
    {"letter", "email", "meeting", "phone call", "secure messaging", "video call"}
)


def check_word(field: str, value: str, allowed: frozenset[str]) -> str:
    """``value`` if it is one of ``allowed``, else a ValidationError listing the choices."""
    if value not in allowed:
        raise ValidationError(
            field, "vocabulary", f"unknown value {value!r}; one of {sorted(allowed)}"
        )
    return value


def check_words(field: str, values: Iterable[str], allowed: frozenset[str]) -> tuple[str, ...]:
    """Each of ``values`` checked against ``allowed``, duplicates dropped, order kept."""
    return tuple(dict.fromkeys(check_word(field, value, allowed) for value in values))
