-- A hold remembers the state it interrupts (SET reads the old row). The
-- named codes were checked first, as for activate_serials. $2 the reason.
UPDATE codes
SET state = 'BLOCKED', blocked_from = state, block_reason = $2, block_time = now()
WHERE serial = ANY($1::text[]) AND state IN ('ISSUED', 'ACTIVE')
