-- 0002_budget: the token/cost ledger (reservations + per-scope charges), calibration, deferred ideas,
-- the repair hand-off queue and KPIs. Amounts are integers: tokens, or pico-USD for money scopes.
CREATE TABLE budget_reservations (
    reservation_id  TEXT PRIMARY KEY,
    run_id          TEXT,
    batch_id        TEXT,
    idea_id         TEXT,
    lane            TEXT,
    model           TEXT,
    purpose         TEXT,
    state           TEXT NOT NULL,            -- held | settled | released | expired
    holder          TEXT NOT NULL,            -- host:pid of the process holding it
    created_at      REAL NOT NULL,            -- decides the period windows it is charged to
    lease_expires   REAL NOT NULL,
    reserved_tokens INTEGER NOT NULL,
    reserved_pico   INTEGER NOT NULL DEFAULT 0,
    actual_tokens   INTEGER,
    actual_pico     INTEGER,
    overrun_tokens  INTEGER NOT NULL DEFAULT 0,
    late            INTEGER NOT NULL DEFAULT 0, -- settled after its lease had lapsed
    finished_at     REAL,
    reason          TEXT
);
CREATE INDEX budget_reservations_run ON budget_reservations (run_id, created_at);
CREATE INDEX budget_reservations_held ON budget_reservations (state, lease_expires);

CREATE TABLE budget_charges (
    reservation_id TEXT NOT NULL,
    scope_key      TEXT NOT NULL,
    unit           TEXT NOT NULL,             -- tokens | pico_usd
    state          TEXT NOT NULL,             -- mirrors the reservation's state
    lease_expires  REAL NOT NULL,
    reserved       INTEGER NOT NULL,
    spent          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (reservation_id, scope_key)
);
CREATE INDEX budget_charges_scope ON budget_charges (scope_key, state, lease_expires, reserved, spent);

CREATE TABLE budget_calibration (
    model          TEXT NOT NULL,
    method         TEXT NOT NULL,
    samples        INTEGER NOT NULL,
    mean_log_ratio REAL NOT NULL,
    updated_at     REAL NOT NULL,
    PRIMARY KEY (model, method)
);

CREATE TABLE budget_deferred (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    idea_id        TEXT NOT NULL,
    lane           TEXT,
    idea           TEXT NOT NULL,             -- the IdeaSpec as JSON
    from_run       TEXT,
    reason         TEXT NOT NULL,
    failure_code   TEXT,
    state          TEXT NOT NULL,             -- pending | claimed | discarded
    deferred_at    REAL NOT NULL,
    claimed_by_run TEXT,
    claimed_at     REAL
);
CREATE INDEX budget_deferred_state ON budget_deferred (state, id);

CREATE TABLE repair_queue (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id       TEXT,
    idea_id      TEXT,
    candidate_id TEXT,
    error_code   TEXT,
    attempts     INTEGER NOT NULL,
    payload      TEXT NOT NULL DEFAULT '{}',
    state        TEXT NOT NULL,               -- pending | taken | done
    created_at   REAL NOT NULL
);
CREATE INDEX repair_queue_state ON repair_queue (state, id);

CREATE TABLE kpis (
    run_id             TEXT NOT NULL,
    batch_id           TEXT NOT NULL,
    level              TEXT NOT NULL,         -- batch | run
    candidates         INTEGER NOT NULL,
    coverage           INTEGER NOT NULL,
    coverage_share     REAL NOT NULL,
    novelty            REAL NOT NULL,
    structural_novelty REAL NOT NULL,
    data               TEXT NOT NULL DEFAULT '{}',
    computed_at        REAL NOT NULL,
    PRIMARY KEY (run_id, batch_id, level)
);
