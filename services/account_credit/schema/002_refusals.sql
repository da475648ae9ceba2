-- Definite refusals (eligibility, unknown account, insufficient credit), kept
-- so that a retry under the same request_id gets the same first answer even
-- if the account has changed since: a request_id is decided exactly once.
CREATE TABLE refusals (
  request_id          text PRIMARY KEY,
  request_fingerprint text NOT NULL,
  code                integer NOT NULL,
  reason              text NOT NULL,
  message             text NOT NULL,
  create_time         timestamptz NOT NULL DEFAULT now()
);
