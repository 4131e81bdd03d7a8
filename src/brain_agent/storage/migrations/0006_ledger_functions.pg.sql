-- 0006_ledger_functions (PostgreSQL only): reserve / settle / release as one round trip each.
-- Lock order, everywhere: counter rows by scope key, then charges, then reservations.

CREATE OR REPLACE FUNCTION brain_reserve(
    p_id TEXT, p_keys TEXT[], p_units TEXT[], p_amounts BIGINT[], p_limits BIGINT[],
    p_now DOUBLE PRECISION, p_lease DOUBLE PRECISION, p_run TEXT, p_batch TEXT, p_idea TEXT,
    p_lane TEXT, p_model TEXT, p_purpose TEXT, p_holder TEXT, p_tokens BIGINT, p_pico BIGINT
) RETURNS TABLE (refused_key TEXT, refused_limit BIGINT, refused_observed BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    i INT;
    used BIGINT;
BEGIN
    IF EXISTS (SELECT 1 FROM budget_reservations WHERE reservation_id = p_id) THEN
        RETURN;  -- reserving is idempotent
    END IF;
    INSERT INTO budget_counters (scope_key)
        SELECT k FROM unnest(p_keys) AS k ORDER BY k ON CONFLICT (scope_key) DO NOTHING;
    PERFORM 1 FROM budget_counters WHERE scope_key = ANY (p_keys) ORDER BY scope_key FOR UPDATE;
    FOR i IN 1 .. coalesce(array_length(p_keys, 1), 0) LOOP
        CONTINUE WHEN p_limits[i] IS NULL;
        SELECT c.spent + c.held - coalesce((
                   SELECT sum(ch.reserved) FROM budget_charges ch
                   WHERE ch.scope_key = p_keys[i] AND ch.state = 'held' AND ch.lease_expires <= p_now), 0)
            INTO used FROM budget_counters c WHERE c.scope_key = p_keys[i];
        IF used + p_amounts[i] > p_limits[i] THEN
            refused_key := p_keys[i];
            refused_limit := p_limits[i];
            refused_observed := used + p_amounts[i];
            RETURN NEXT;
            RETURN;
        END IF;
    END LOOP;
    INSERT INTO budget_reservations (reservation_id, run_id, batch_id, idea_id, lane, model, purpose, state,
                                     holder, created_at, lease_expires, reserved_tokens, reserved_pico)
        VALUES (p_id, p_run, p_batch, p_idea, p_lane, p_model, p_purpose, 'held', p_holder, p_now,
                p_now + p_lease, p_tokens, p_pico);
    INSERT INTO budget_charges (reservation_id, scope_key, unit, state, lease_expires, reserved)
        SELECT p_id, t.k, t.u, 'held', p_now + p_lease, t.a FROM unnest(p_keys, p_units, p_amounts) AS t(k, u, a);
    UPDATE budget_counters c SET held = c.held + t.a
        FROM unnest(p_keys, p_amounts) AS t(k, a) WHERE c.scope_key = t.k;
    RETURN;
END
$$;

CREATE OR REPLACE FUNCTION brain_settle(
    p_id TEXT, p_keys TEXT[], p_actual BIGINT[], p_now DOUBLE PRECISION, p_tokens BIGINT, p_pico BIGINT
) RETURNS BOOLEAN
LANGUAGE plpgsql AS $$
DECLARE
    st TEXT;
    reserved BIGINT;
BEGIN
    PERFORM 1 FROM budget_counters
        WHERE scope_key IN (SELECT scope_key FROM budget_charges WHERE reservation_id = p_id)
        ORDER BY scope_key FOR UPDATE;
    SELECT r.state, r.reserved_tokens INTO st, reserved FROM budget_reservations r WHERE r.reservation_id = p_id;
    IF NOT FOUND OR st NOT IN ('held', 'expired') THEN
        RETURN FALSE;
    END IF;
    UPDATE budget_counters c
        SET held = c.held - (CASE WHEN ch.state = 'held' THEN ch.reserved ELSE 0 END),
            spent = c.spent + coalesce(a.amount, 0)
        FROM budget_charges ch LEFT JOIN unnest(p_keys, p_actual) AS a(k, amount) ON a.k = ch.scope_key
        WHERE ch.reservation_id = p_id AND c.scope_key = ch.scope_key;
    UPDATE budget_charges ch SET state = 'settled', spent = coalesce((
            SELECT a.amount FROM unnest(p_keys, p_actual) AS a(k, amount) WHERE a.k = ch.scope_key LIMIT 1), 0)
        WHERE ch.reservation_id = p_id;
    UPDATE budget_reservations SET state = 'settled', actual_tokens = p_tokens, actual_pico = p_pico,
        overrun_tokens = greatest(0, p_tokens - reserved), late = CASE WHEN st = 'expired' THEN 1 ELSE 0 END,
        finished_at = p_now
        WHERE reservation_id = p_id;
    RETURN TRUE;
END
$$;

CREATE OR REPLACE FUNCTION brain_release(p_id TEXT, p_now DOUBLE PRECISION, p_reason TEXT) RETURNS BOOLEAN
LANGUAGE plpgsql AS $$
DECLARE
    st TEXT;
BEGIN
    PERFORM 1 FROM budget_counters
        WHERE scope_key IN (SELECT scope_key FROM budget_charges WHERE reservation_id = p_id)
        ORDER BY scope_key FOR UPDATE;
    SELECT r.state INTO st FROM budget_reservations r WHERE r.reservation_id = p_id;
    IF NOT FOUND OR st NOT IN ('held', 'expired') THEN
        RETURN FALSE;
    END IF;
    UPDATE budget_counters c SET held = c.held - ch.reserved
        FROM budget_charges ch
        WHERE ch.reservation_id = p_id AND ch.state = 'held' AND c.scope_key = ch.scope_key;
    UPDATE budget_charges SET state = 'released' WHERE reservation_id = p_id;
    UPDATE budget_reservations SET state = 'released', finished_at = p_now, reason = p_reason
        WHERE reservation_id = p_id;
    RETURN TRUE;
END
$$;
