-- 0001_core: runs, events, the LLM call log, candidates.
CREATE TABLE runs (
    run_id      TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  REAL NOT NULL,
    finished_at REAL,
    config      TEXT NOT NULL DEFAULT '{}',
    summary     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX runs_created ON runs (created_at DESC);

CREATE TABLE events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id  TEXT NOT NULL,
    ts      REAL NOT NULL,
    name    TEXT NOT NULL,
    step    TEXT,
    idea_id TEXT,
    lane    TEXT,
    payload TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_run ON events (run_id, id);

CREATE TABLE llm_calls (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id         TEXT,
    idea_id        TEXT,
    ts             REAL NOT NULL,
    provider       TEXT NOT NULL,
    model          TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    request_key    TEXT,
    uncached_input INTEGER NOT NULL DEFAULT 0,
    cached_input   INTEGER NOT NULL DEFAULT 0,
    cache_write    INTEGER NOT NULL DEFAULT 0,
    output         INTEGER NOT NULL DEFAULT 0,
    reasoning      INTEGER NOT NULL DEFAULT 0,
    latency_ms     REAL NOT NULL DEFAULT 0,
    cost           TEXT NOT NULL DEFAULT '0',
    cache_hit      INTEGER NOT NULL DEFAULT 0,
    reservation_id TEXT,
    raw_usage      TEXT NOT NULL DEFAULT '{}',
    response_text  TEXT,
    error          TEXT
);
CREATE INDEX llm_calls_run ON llm_calls (run_id, id);
CREATE INDEX llm_calls_key ON llm_calls (request_key);

CREATE TABLE candidates (
    candidate_id  TEXT PRIMARY KEY,
    run_id        TEXT,
    idea_id       TEXT,
    lane          TEXT,
    created_at    REAL NOT NULL,
    expression    TEXT,
    status        TEXT NOT NULL,
    valid         INTEGER NOT NULL DEFAULT 0,
    error_code    TEXT,
    fields        TEXT NOT NULL DEFAULT '[]',
    operators     TEXT NOT NULL DEFAULT '[]',
    subcategories TEXT NOT NULL DEFAULT '[]',
    data          TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX candidates_run ON candidates (run_id, created_at);
