-- 0004_view_checkpoints: snapshots of the dashboard reducer (telemetry.views.RunView), so the server's
-- first look at a long run (and a replay at any event) folds only the events after the nearest
-- checkpoint. A checkpoint is derived data: rows of another reducer version are ignored and deleted.
CREATE TABLE view_checkpoints (
    run_id      TEXT NOT NULL,
    version     TEXT NOT NULL,
    cursor      INTEGER NOT NULL,
    events      INTEGER NOT NULL,
    state       BLOB NOT NULL,
    created_at  REAL NOT NULL,
    PRIMARY KEY (run_id, version, cursor)
);
