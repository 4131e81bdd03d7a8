-- 0004_gate_liveness: who runs a run (so a dead process's run is marked, not left "running"), and
-- single-flight claims for identical LLM requests in flight across processes.
ALTER TABLE runs ADD COLUMN holder TEXT;          -- host:pid of the process running it
ALTER TABLE runs ADD COLUMN heartbeat_at REAL;    -- last sign of life (renewed with the holds)
CREATE INDEX runs_status ON runs (status);

CREATE TABLE llm_flights (
    request_key   TEXT PRIMARY KEY,
    holder        TEXT NOT NULL,                 -- host:pid of the caller making the request
    started_at    REAL NOT NULL,
    lease_expires REAL NOT NULL                  -- renewed while the call runs
);
