-- 0003_simulation: one row per simulation attempt of a candidate (local or BRAIN).
-- The job handle and status are written before polling starts, so a restarted run resumes polling
-- rows left in flight (status SUBMITTED / RUNNING) instead of submitting them again.
CREATE TABLE simulations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    candidate_id  TEXT NOT NULL,
    run_id        TEXT,
    idea_id       TEXT,
    lane          TEXT,
    backend       TEXT NOT NULL,
    expression    TEXT NOT NULL,
    settings_key  TEXT NOT NULL,
    settings      TEXT NOT NULL DEFAULT '{}',
    handle        TEXT,
    status        TEXT NOT NULL,   -- QUEUED | SUBMITTED | RUNNING | COMPLETE | ERROR | SKIPPED
    progress      REAL,
    alpha_id      TEXT,
    created_at    REAL NOT NULL,
    submitted_at  REAL,
    started_at    REAL,
    finished_at   REAL,
    queue_s       REAL,
    run_s         REAL,
    total_s       REAL,
    sharpe        REAL,
    fitness       REAL,
    turnover      REAL,
    returns       REAL,
    passed        INTEGER,
    result        TEXT,
    error         TEXT
);
CREATE INDEX simulations_candidate ON simulations (candidate_id, backend, settings_key, id);
CREATE INDEX simulations_status ON simulations (status, id);
CREATE INDEX simulations_run ON simulations (run_id, id);
