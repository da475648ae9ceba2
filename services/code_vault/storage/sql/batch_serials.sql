-- A batch's serials, for a replayed issuance's answer.
SELECT serial
FROM codes
WHERE batch_id = $1::uuid
ORDER BY serial
