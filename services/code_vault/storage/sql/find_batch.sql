-- The batch an earlier call with this request id issued.
SELECT batch_id::text AS batch_id, request_fingerprint
FROM batches
WHERE request_id = $1
