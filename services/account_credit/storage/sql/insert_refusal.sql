-- A refusal becomes the request's answer only if no other decision took
-- its request id first (no row back: rerun, and replay that one).
WITH d AS (
  INSERT INTO decisions (request_id, kind)
  VALUES ($1, 'REFUSAL')
  ON CONFLICT (request_id) DO NOTHING
  RETURNING request_id
)
INSERT INTO refusals (request_id, request_fingerprint, code, reason, message)
SELECT d.request_id, $2, $3, $4, $5 FROM d
RETURNING 1 AS inserted
