-- Every redemption, for the audit's cross-check with the ledger.
SELECT redemption_id::text AS redemption_id, account_id, state, currency_code, amount_minor
FROM redemptions
