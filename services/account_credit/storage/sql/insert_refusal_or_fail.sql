-- insert_refusal, failing (23505: a conflict) on a request id decided
-- already: the engine's flight that ends in COMMIT must not commit a batch
-- with one missing.
WITH d AS (
  INSERT INTO decisions (request_id, kind)
  VALUES ($1, 'REFUSAL')
  RETURNING request_id
)
INSERT INTO refusals (request_id, request_fingerprint, code, reason, message)
SELECT d.request_id, $2, $3, $4, $5 FROM d
RETURNING 1 AS inserted
