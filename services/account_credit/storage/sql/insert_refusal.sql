-- A refusal becomes the request's answer only if no other decision took its
-- request id first. One that did fails the statement (23505: ABORTED,
-- CONFLICT): the transaction rolls back and the caller reruns it, which
-- replays that decision. So no transaction, and no engine flight that ends
-- in COMMIT, ever commits with a decision missing.
WITH d AS (
  INSERT INTO decisions (request_id, kind)
  VALUES ($1, 'REFUSAL')
  RETURNING request_id
)
INSERT INTO refusals (request_id, request_fingerprint, code, reason, message)
SELECT d.request_id, $2, $3, $4, $5 FROM d
RETURNING 1 AS inserted
