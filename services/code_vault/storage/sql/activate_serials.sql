-- Sells codes: ISSUED to ACTIVE.
UPDATE codes
SET state = 'ACTIVE', activate_time = now()
WHERE serial = ANY($1::text[]) AND state = 'ISSUED'
