-- Recovery workers claim the PENDING redemptions they retry: a claim moves
-- next_attempt_time out by a backoff that doubles per attempt (the claim's
-- lease), so replicas split the work and a row that keeps failing waits its
-- turn instead of starving the rest.
ALTER TABLE redemptions ADD COLUMN attempts integer NOT NULL DEFAULT 0;
ALTER TABLE redemptions ADD COLUMN next_attempt_time timestamptz NOT NULL DEFAULT now();
DROP INDEX redemptions_pending;
CREATE INDEX redemptions_pending ON redemptions (next_attempt_time) WHERE state = 'PENDING';
