-- Admin bulk changes (activate, void) are idempotent on request_id: the first
-- answer is kept and returned to every replay.
CREATE TABLE admin_requests (
  request_id          text PRIMARY KEY,
  kind                text NOT NULL CHECK (kind IN ('ACTIVATE', 'VOID')),
  request_fingerprint text NOT NULL,
  changed_count       bigint NOT NULL,
  create_time         timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE codes ADD COLUMN void_reason text;
