-- Recovery workers claim the unsettled applications they retry: a claim
-- moves next_attempt_time out by a backoff that doubles per attempt (the
-- claim's lease), so replicas split the work and an invoice that keeps
-- failing waits its turn instead of starving the rest.
ALTER TABLE credit_applications ADD COLUMN attempts integer NOT NULL DEFAULT 0;
ALTER TABLE credit_applications ADD COLUMN next_attempt_time timestamptz NOT NULL DEFAULT now();
DROP INDEX credit_applications_unsettled;
CREATE INDEX credit_applications_unsettled ON credit_applications (next_attempt_time)
  WHERE state IN ('PENDING', 'REVERSAL_PENDING');
