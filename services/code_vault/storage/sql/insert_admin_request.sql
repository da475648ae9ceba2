-- A bulk change's request id and counts, for its replays.
INSERT INTO admin_requests (
  request_id, kind, request_fingerprint, changed_count, unchanged_count, skipped_count
)
VALUES ($1, $2, $3, $4, $5, $6)
