-- 0005_budget_counters: one counter row per scope and window, kept exact by the same transaction
-- that changes a charge, so a reservation reads O(scopes) rows, never the window's history.
CREATE TABLE budget_counters (
    scope_key TEXT PRIMARY KEY,
    spent     INTEGER NOT NULL DEFAULT 0,     -- settled amounts
    held      INTEGER NOT NULL DEFAULT 0      -- live holds (state 'held'), lapsed ones included until expired
);
INSERT INTO budget_counters (scope_key, spent, held)
    SELECT scope_key,
           COALESCE(SUM(CASE WHEN state = 'settled' THEN spent ELSE 0 END), 0),
           COALESCE(SUM(CASE WHEN state = 'held' THEN reserved ELSE 0 END), 0)
    FROM budget_charges GROUP BY scope_key;
CREATE INDEX budget_charges_lapse ON budget_charges (state, lease_expires);
