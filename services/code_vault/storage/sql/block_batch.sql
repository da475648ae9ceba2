-- A hold remembers the state it interrupts (SET reads the old row). An
-- expired code is not held: it can never be redeemed anyway.
-- $2 the reason.
UPDATE codes
SET state = 'BLOCKED', blocked_from = state, block_reason = $2, block_time = now()
WHERE batch_id = $1::uuid AND state IN ('ISSUED', 'ACTIVE')
  AND (expire_time IS NULL OR expire_time > now())
