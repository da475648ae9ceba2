-- Credit applications: which invoice took how much credit. Distribution key
-- for Citus: invoice_id (one row per invoice, every statement by invoice_id).
CREATE TABLE credit_applications (
  invoice_id             text PRIMARY KEY,
  account_id             text NOT NULL,
  currency_code          text NOT NULL,
  amount_due_minor       bigint NOT NULL CHECK (amount_due_minor > 0),
  state                  text NOT NULL CHECK (state IN ('PENDING', 'APPLIED', 'REVERSED')),
  applied_minor          bigint CHECK (applied_minor >= 0 AND applied_minor <= amount_due_minor),
  remaining_credit_minor bigint CHECK (remaining_credit_minor >= 0),
  debit_transfer_id      text,
  create_time            timestamptz NOT NULL DEFAULT now(),
  update_time            timestamptz NOT NULL DEFAULT now(),
  CHECK (state = 'PENDING' OR (applied_minor IS NOT NULL AND remaining_credit_minor IS NOT NULL))
);
CREATE INDEX credit_applications_by_account ON credit_applications (account_id, create_time);
CREATE INDEX credit_applications_pending ON credit_applications (create_time) WHERE state = 'PENDING';
