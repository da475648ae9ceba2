-- Voids codes not redeemed (nor being redeemed); $2 the reason.
UPDATE codes
SET state = 'VOIDED', void_time = now(), void_reason = $2, blocked_from = NULL
WHERE serial = ANY($1::text[]) AND state IN ('ISSUED', 'ACTIVE', 'BLOCKED')
