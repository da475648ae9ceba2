-- Lifts holds: back to the state each interrupted. A clawed-back code,
-- held from REDEEMED, is never unblocked.
UPDATE codes
SET state = blocked_from, blocked_from = NULL, block_reason = NULL, block_time = NULL
WHERE serial = ANY($1::text[]) AND state = 'BLOCKED' AND blocked_from <> 'REDEEMED'
