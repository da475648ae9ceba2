-- Sells codes: ISSUED to ACTIVE, unless expired.
UPDATE codes
SET state = 'ACTIVE', activate_time = now()
WHERE batch_id = $1::uuid AND state = 'ISSUED'
  AND (expire_time IS NULL OR expire_time > now())
