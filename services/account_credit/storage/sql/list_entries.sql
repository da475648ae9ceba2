-- A statement's lines: each entry with its transfer's kind (a reversal's
-- with its original's too), its reference (a reversal's is its original's:
-- the invoice id) and, on the transfer's own account, the balance the
-- transfer left. Entries of one account are written under its row lock,
-- so their ids run in the order of those balances. $1 the account, $2 the
-- entry id to list before (0: from the newest), $3 the limit, $4/$5 the
-- time range in microseconds since the epoch (NULL: unbounded).
SELECT
  e.entry_id,
  e.transfer_id::text AS transfer_id,
  e.account_id,
  e.currency_code,
  e.amount_minor,
  (extract(epoch FROM e.create_time) * 1000000)::bigint AS create_time_us,
  t.kind,
  coalesce(o.kind, '') AS reversed_kind,
  CASE WHEN t.kind = 'REVERSAL' THEN coalesce(o.reference, '') ELSE t.reference END AS reference,
  CASE WHEN t.account_id = e.account_id THEN t.balance_after_minor END AS balance_after_minor
FROM ledger_entries e
JOIN transfers t ON t.transfer_id = e.transfer_id
LEFT JOIN transfers o ON o.transfer_id = t.reverses_transfer_id
WHERE e.account_id = $1
  AND ($2 = 0 OR e.entry_id < $2)
  AND ($4::bigint IS NULL OR e.create_time >= to_timestamp($4::bigint / 1e6))
  AND ($5::bigint IS NULL OR e.create_time < to_timestamp($5::bigint / 1e6))
ORDER BY e.entry_id DESC
LIMIT $3
