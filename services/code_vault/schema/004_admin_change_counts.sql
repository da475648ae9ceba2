-- A bulk change's whole answer is replayed to a retry: besides the codes it
-- changed, those already in the target state and those it skipped.
ALTER TABLE admin_requests
  ADD COLUMN unchanged_count bigint NOT NULL DEFAULT 0,
  ADD COLUMN skipped_count   bigint NOT NULL DEFAULT 0;
