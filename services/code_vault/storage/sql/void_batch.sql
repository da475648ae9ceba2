-- Voids codes not redeemed (nor being redeemed); $2 the reason.
UPDATE codes
SET state = 'VOIDED', void_time = now(), void_reason = $2, blocked_from = NULL
WHERE batch_id = $1::uuid AND state IN ('ISSUED', 'ACTIVE', 'BLOCKED')
