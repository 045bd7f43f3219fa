"""The view tables: portable SQL for SQLite and PostgreSQL; dates and times as sortable ISO text.

No table holds personal data: contact persons appear by person id only, resolved at read time.
No table holds free text in the clear: the columns ``SEALED`` lists are AES-256-GCM ciphertexts
(``BYTEA``; ``BLOB`` on SQLite) bound to their table, column and row (``projections.crypto``).
Partner search goes through the blind index ``view_partner_search``.
"""

from __future__ import annotations

TRACKING_TABLE = "view_tracking"
FORMAT_TABLE = "view_format"
VIEW_FORMAT = 2
"""Layout version of the views; stored views of another version are dropped and rebuilt.
1: plaintext text columns; 2: sealed text columns and the blind index."""

SEALED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "view_history": (("record_id", "version"), ("reason",)),
    "view_partners": (
        ("partner_id",),
        ("name", "acronym", "status_reason", "mission_context", "external_id"),
    ),
    "view_timeline": (("entry_id",), ("title", "reason")),
    "view_engagements": (("engagement_id",), ("title", "summary", "location")),
    "view_assessments": (("assessment_id",), ("title",)),
    "view_mitigations": (("assessment_id", "mitigation_id"), ("measure", "owner")),
}
"""Per table: the columns naming a row (joined by U+001F for the associated data), and the
sealed columns. Everything else is ids, dates, numbers or vocabulary codes, in the clear."""

# Order matters for DROP (children first is not needed: there are no foreign keys).
VIEW_TABLES = (
    "view_history",
    "view_partners",
    "view_partner_search",
    "view_partner_countries",
    "view_partner_focus_areas",
    "view_partner_contacts",
    "view_timeline",
    "view_timeline_partners",
    "view_engagements",
    "view_engagement_partners",
    "view_assessments",
    "view_mitigations",
    "view_decisions",
    "view_decision_assessments",
    "view_access_log",
)

VIEW_DDL = (
    # Layout version of these tables (one row).
    f"""CREATE TABLE IF NOT EXISTS {FORMAT_TABLE} (
        id INTEGER PRIMARY KEY CHECK (id = 1), -- a single row
        format INTEGER NOT NULL              -- VIEW_FORMAT the tables were created with
    )""",
    # Position of the views in the application's log (one row per upstream application).
    f"""CREATE TABLE IF NOT EXISTS {TRACKING_TABLE} (
        application_name TEXT PRIMARY KEY,   -- upstream application, e.g. PartnershipRegistry
        notification_id BIGINT NOT NULL      -- last notification every view includes
    )""",
    # Every event of every record: who, in which role, why, when recorded, when it happened.
    """CREATE TABLE IF NOT EXISTS view_history (
        record_id TEXT NOT NULL,             -- aggregate (stream) id
        version INTEGER NOT NULL,            -- event's version within the stream
        record_type TEXT NOT NULL,           -- aggregate class name, e.g. PartnerOrganisation
        event_type TEXT NOT NULL,            -- event class name, e.g. Suspended
        position BIGINT NOT NULL,            -- notification id in the application's log
        actor_id TEXT NOT NULL,              -- subject id of the acting user
        actor_role TEXT NOT NULL,            -- role the actor acted in
        reason BYTEA NOT NULL,               -- sealed: why (may be empty)
        recorded_at TEXT NOT NULL,           -- store time, ISO UTC with microseconds
        valid_start TEXT NOT NULL,           -- first day the event's valid time names
        valid_end TEXT NOT NULL,             -- last day of that period
        valid_precision TEXT NOT NULL,       -- day | month | year
        PRIMARY KEY (record_id, version)
    )""",
    # Current state of each partner organisation (names are organisations', not persons').
    """CREATE TABLE IF NOT EXISTS view_partners (
        partner_id TEXT PRIMARY KEY,         -- aggregate id
        name BYTEA NOT NULL,                 -- sealed: current name
        acronym BYTEA NOT NULL,              -- sealed: acronym, may be empty
        kind TEXT NOT NULL,                  -- vocabulary PARTNER_KINDS
        scope TEXT NOT NULL,                 -- local | national | regional | international
        status TEXT NOT NULL,                -- registered,active,suspended,reinstated,closed
        status_reason BYTEA NOT NULL,        -- sealed: reason of the last status change
        mission_context BYTEA NOT NULL,      -- sealed: mission or operation context
        external_id BYTEA NOT NULL,          -- sealed: identifier in another system
        current_rating TEXT,                 -- rating of the latest finalised, live assessment
        last_engaged_on TEXT,                -- last day of the latest engagement's valid time
        registered_at TEXT NOT NULL,         -- recorded time of registration
        updated_at TEXT NOT NULL,            -- recorded time of the last event
        version INTEGER NOT NULL             -- aggregate version the row reflects
    )""",
    # Blind index of partners' names, acronyms and former names (projections.crypto).
    """CREATE TABLE IF NOT EXISTS view_partner_search (
        partner_id TEXT PRIMARY KEY,         -- partner
        tokens BYTEA NOT NULL                -- its index tokens (HMACs), sorted, concatenated
    )""",
    """CREATE TABLE IF NOT EXISTS view_partner_countries (
        partner_id TEXT NOT NULL,            -- partner
        country TEXT NOT NULL,               -- ISO 3166 code as the domain checked it
        PRIMARY KEY (partner_id, country)
    )""",
    """CREATE TABLE IF NOT EXISTS view_partner_focus_areas (
        partner_id TEXT NOT NULL,            -- partner
        focus_area TEXT NOT NULL,            -- vocabulary FOCUS_AREAS
        PRIMARY KEY (partner_id, focus_area)
    )""",
    """CREATE TABLE IF NOT EXISTS view_partner_contacts (
        partner_id TEXT NOT NULL,            -- partner
        person_id TEXT NOT NULL,             -- contact person (details resolved from the aggregate)
        PRIMARY KEY (partner_id, person_id)
    )""",
    # One chronological stream across partners.
    """CREATE TABLE IF NOT EXISTS view_timeline (
        entry_id TEXT PRIMARY KEY,           -- record id ':' version
        record_id TEXT NOT NULL,             -- aggregate the event belongs to
        version INTEGER NOT NULL,            -- event version
        record_type TEXT NOT NULL,           -- aggregate class name
        kind TEXT NOT NULL,                  -- what happened, e.g. engagement, partner_suspended
        title BYTEA NOT NULL,                -- sealed: title or summary (never personal data)
        valid_start TEXT NOT NULL,           -- first day of the valid period (sort key)
        valid_end TEXT NOT NULL,             -- last day of the valid period
        valid_precision TEXT NOT NULL,       -- day | month | year
        recorded_at TEXT NOT NULL,           -- store time, ISO UTC with microseconds
        actor_id TEXT NOT NULL,              -- who recorded it
        actor_role TEXT NOT NULL,            -- in which role
        reason BYTEA NOT NULL,               -- sealed: why, may be empty
        recorded_late INTEGER NOT NULL,      -- 1 when recorded over 30 days after the period ended
        position BIGINT NOT NULL             -- notification id
    )""",
    """CREATE INDEX IF NOT EXISTS ix_timeline_order
        ON view_timeline (valid_start, recorded_at, entry_id)""",
    """CREATE TABLE IF NOT EXISTS view_timeline_partners (
        entry_id TEXT NOT NULL,              -- timeline entry
        partner_id TEXT NOT NULL,            -- a partner the entry concerns
        PRIMARY KEY (entry_id, partner_id)
    )""",
    "CREATE INDEX IF NOT EXISTS ix_timeline_partner ON view_timeline_partners (partner_id)",
    """CREATE TABLE IF NOT EXISTS view_engagements (
        engagement_id TEXT PRIMARY KEY,      -- aggregate id
        kind TEXT NOT NULL,                  -- vocabulary ENGAGEMENT_KINDS
        title BYTEA NOT NULL,                -- sealed: title
        summary BYTEA NOT NULL,              -- sealed: summary, may be empty
        valid_start TEXT NOT NULL,           -- when it happened (first day)
        valid_end TEXT NOT NULL,             -- last day (end date or end of the period)
        valid_precision TEXT NOT NULL,       -- day | month | year
        location BYTEA NOT NULL,             -- sealed: place or 'virtual'
        confidentiality TEXT NOT NULL,       -- confidentiality level
        non_attribution INTEGER NOT NULL,    -- 1 under non-attribution
        status TEXT NOT NULL,                -- recorded | corrected | withdrawn
        recorded_at TEXT NOT NULL,           -- recorded time of the first event
        updated_at TEXT NOT NULL,            -- recorded time of the last event
        version INTEGER NOT NULL             -- aggregate version
    )""",
    """CREATE TABLE IF NOT EXISTS view_engagement_partners (
        engagement_id TEXT NOT NULL,         -- engagement
        partner_id TEXT NOT NULL,            -- partner taking part
        role TEXT NOT NULL,                  -- convener | co-facilitator | participant
        PRIMARY KEY (engagement_id, partner_id)
    )""",
    "CREATE INDEX IF NOT EXISTS ix_engagement_partner ON view_engagement_partners (partner_id)",
    """CREATE TABLE IF NOT EXISTS view_assessments (
        assessment_id TEXT PRIMARY KEY,      -- aggregate id
        partner_id TEXT NOT NULL,            -- assessed partner
        engagement_id TEXT,                  -- engagement it is for, if any
        title BYTEA NOT NULL,                -- sealed: title, may be empty
        status TEXT NOT NULL,                -- draft,submitted,finalised,superseded,withdrawn
        max_score INTEGER,                   -- highest likelihood x impact among its risks
        rating TEXT,                         -- rating of max_score (low ... high)
        risk_count INTEGER NOT NULL,         -- number of risks
        opened_on TEXT NOT NULL,             -- valid date it was opened
        finalised_on TEXT,                   -- valid date of finalisation
        finalised_at TEXT,                   -- recorded time of finalisation
        superseded_by TEXT,                  -- assessment that superseded it
        recorded_at TEXT NOT NULL,           -- recorded time of the first event
        updated_at TEXT NOT NULL,            -- recorded time of the last event
        version INTEGER NOT NULL             -- aggregate version
    )""",
    "CREATE INDEX IF NOT EXISTS ix_assessment_partner ON view_assessments (partner_id)",
    """CREATE TABLE IF NOT EXISTS view_mitigations (
        assessment_id TEXT NOT NULL,         -- assessment
        mitigation_id TEXT NOT NULL,         -- mitigation id
        partner_id TEXT NOT NULL,            -- partner the assessment concerns
        measure BYTEA NOT NULL,              -- sealed: what is done
        owner BYTEA NOT NULL,                -- sealed: unit or function responsible
        due_on TEXT,                         -- due date
        status TEXT NOT NULL,                -- planned | in progress | done | dropped
        PRIMARY KEY (assessment_id, mitigation_id)
    )""",
    """CREATE TABLE IF NOT EXISTS view_decisions (
        decision_id TEXT PRIMARY KEY,        -- aggregate id
        partner_id TEXT NOT NULL,            -- partner concerned
        scope TEXT NOT NULL,                 -- scope of support
        status TEXT NOT NULL,                -- proposed | decided
        outcome TEXT,                        -- approved, approved with conditions, ... revoked
        proposer_id TEXT NOT NULL,           -- who proposed
        proposer_role TEXT NOT NULL,         -- in which role
        decider_id TEXT,                     -- who decided
        decider_role TEXT,                   -- in which role
        condition_count INTEGER NOT NULL,    -- number of conditions
        review_due TEXT,                     -- review due date (ISO date)
        review_count INTEGER NOT NULL,       -- number of reviews
        decided_on TEXT,                     -- valid date of the decision
        proposed_at TEXT NOT NULL,           -- recorded time of the proposal
        updated_at TEXT NOT NULL,            -- recorded time of the last event
        version INTEGER NOT NULL             -- aggregate version
    )""",
    "CREATE INDEX IF NOT EXISTS ix_decision_partner ON view_decisions (partner_id)",
    """CREATE TABLE IF NOT EXISTS view_decision_assessments (
        decision_id TEXT NOT NULL,           -- decision
        assessment_id TEXT NOT NULL,         -- assessment it relied on
        assessment_version INTEGER NOT NULL, -- at this version
        score INTEGER NOT NULL,              -- its score at that version
        rating TEXT NOT NULL,                -- its rating at that version
        PRIMARY KEY (decision_id, assessment_id)
    )""",
    # Who read which partner's record, when, through which operation (read accountability).
    """CREATE TABLE IF NOT EXISTS view_access_log (
        record_id TEXT NOT NULL,             -- access-log stream id
        version INTEGER NOT NULL,            -- event version within that stream
        entry INTEGER NOT NULL,              -- index of the read within the event
        partner_id TEXT NOT NULL,            -- partner whose record was read
        read_at TEXT NOT NULL,               -- when it was read, ISO UTC with microseconds
        actor_id TEXT NOT NULL,              -- reader's subject id
        actor_role TEXT NOT NULL,            -- reader's role
        operation TEXT NOT NULL,             -- query, export or page that read it
        position BIGINT NOT NULL,            -- notification id
        PRIMARY KEY (record_id, version, entry)
    )""",
    """CREATE INDEX IF NOT EXISTS ix_access_log_partner
        ON view_access_log (partner_id, read_at)""",
)
