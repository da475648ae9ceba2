SELECT 1 AS found
FROM batches
WHERE batch_id = $1::uuid
