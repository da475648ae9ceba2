-- An earlier bulk change with this request id, and what it counted.
SELECT request_fingerprint, changed_count, unchanged_count, skipped_count
FROM admin_requests
WHERE request_id = $1
