-- The transfer, its two entries, the new balance and owed amount in one
-- statement (one round trip). $11 is the signed change for the customer; a
-- transfer of 0 has no entries. $12/$13: what it adds to and repays of the
-- account's owed amount (a repayment's money moves in its own transfer).
-- When the request id is decided already (a concurrent call's transfer or
-- refusal), nothing is written and no row comes back. The first entry
-- locks the account's currency.
WITH d AS (
  INSERT INTO decisions (request_id, kind)
  VALUES ($1, 'TRANSFER')
  ON CONFLICT (request_id) DO NOTHING
  RETURNING request_id
),
t AS (
  INSERT INTO transfers (request_id, request_fingerprint, kind, account_id, counter_account_id,
                         currency_code, amount_minor, balance_after_minor, reference,
                         reverses_transfer_id, owed_added_minor, owed_repaid_minor)
  SELECT d.request_id, $2, $3, $4, $5, $6, $7, $8, $9, nullif($10, '')::uuid, $12::bigint,
         $13::bigint
  FROM d
  RETURNING transfer_id, create_time
),
e AS (
  INSERT INTO ledger_entries (account_id, transfer_id, currency_code, amount_minor)
  SELECT v.account_id, t.transfer_id, $6, v.amount
  FROM t, (VALUES ($4, $11::bigint), ($5, -$11::bigint)) AS v(account_id, amount)
  WHERE $11::bigint <> 0
),
b AS (
  UPDATE accounts
  SET balance_minor = balance_minor + $11::bigint,
      owed_minor = owed_minor + $12::bigint - $13::bigint,
      currency_locked = true,
      update_time = now()
  WHERE account_id = $4
    AND ($11::bigint <> 0 OR $12::bigint <> 0 OR $13::bigint <> 0)
    AND EXISTS (SELECT 1 FROM t)
)
SELECT
  transfer_id::text AS transfer_id,
  (extract(epoch FROM create_time) * 1000000)::bigint AS create_time_us
FROM t
