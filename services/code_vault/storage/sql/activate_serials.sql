-- Sells the named codes: ISSUED to ACTIVE. Each was checked first, under
-- its lock (serials_in_state, then the domain's BulkChangeMoves refuses an
-- expired one), so no expiry test here.
UPDATE codes
SET state = 'ACTIVE', activate_time = now()
WHERE serial = ANY($1::text[]) AND state = 'ISSUED'
