-- Every credit application, for the audit's cross-check with the ledger.
SELECT
  invoice_id,
  account_id,
  state,
  coalesce(debit_transfer_id, '') AS debit_transfer_id,
  coalesce(reversal_transfer_id, '') AS reversal_transfer_id,
  coalesce(applied_minor, 0) AS applied_minor
FROM credit_applications
