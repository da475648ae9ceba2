-- Reversals: an applied credit can be put back once (invoice voided or
-- refunded). REVERSAL_PENDING records the intent before account-credit is
-- asked, so a crash in between is finished by the recovery worker.
ALTER TABLE credit_applications DROP CONSTRAINT credit_applications_state_check;
ALTER TABLE credit_applications ADD CONSTRAINT credit_applications_state_check
  CHECK (state IN ('PENDING', 'APPLIED', 'REVERSAL_PENDING', 'REVERSED'));
ALTER TABLE credit_applications ADD COLUMN reversal_transfer_id text;
ALTER TABLE credit_applications ADD COLUMN reverse_reason text;
DROP INDEX credit_applications_pending;
CREATE INDEX credit_applications_unsettled ON credit_applications (update_time)
  WHERE state IN ('PENDING', 'REVERSAL_PENDING');
