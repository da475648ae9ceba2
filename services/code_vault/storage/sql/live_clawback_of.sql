-- A clawback of redemption $1 that was not refused.
SELECT request_id
FROM clawbacks
WHERE redemption_id = $1::uuid AND state <> 'REJECTED'
