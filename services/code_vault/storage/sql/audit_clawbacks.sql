-- Every clawback with the request id its reversal carries in the ledger,
-- and its code's state now.
SELECT
  k.clawback_id::text AS clawback_id,
  k.redemption_id::text AS redemption_id,
  k.state,
  'vault:clawback:' || k.clawback_id::text AS ledger_request_id,
  k.currency_code,
  coalesce(k.clawed_back_minor, 0) AS clawed_back_minor,
  coalesce(c.state, '') AS code_state
FROM clawbacks k
LEFT JOIN codes c ON c.code_hash = k.code_hash
