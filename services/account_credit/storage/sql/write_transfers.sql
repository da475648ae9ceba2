-- write_transfer for a batch: every transfer, its two entries and each
-- account's new balance (the sum of its deltas) in one statement, one
-- element of each array per write. A request id another transaction
-- decided first fails the statement (23505: ABORTED, CONFLICT; the caller
-- reruns, and replays it), so no batch commits with one missing. Each row
-- names its input's ordinal (request ids are distinct here: a repeat
-- within a batch never reaches this statement). A credit that repays owed
-- is followed by its repayment's row.
WITH input AS (
  SELECT *
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
              $7::bigint[], $8::bigint[], $9::text[], $10::bigint[], $11::bigint[],
              $12::bigint[])
    WITH ORDINALITY AS i(request_id, request_fingerprint, kind, account_id, counter_account_id,
                         currency_code, amount_minor, balance_after_minor, reference, delta,
                         owed_added, owed_repaid, ord)
),
d AS (
  INSERT INTO decisions (request_id, kind)
  SELECT request_id, 'TRANSFER' FROM input ORDER BY ord
  RETURNING request_id
),
t AS (
  INSERT INTO transfers (request_id, request_fingerprint, kind, account_id, counter_account_id,
                         currency_code, amount_minor, balance_after_minor, reference,
                         owed_added_minor, owed_repaid_minor)
  SELECT i.request_id, i.request_fingerprint, i.kind, i.account_id, i.counter_account_id,
         i.currency_code, i.amount_minor, i.balance_after_minor, i.reference, i.owed_added,
         i.owed_repaid
  FROM input i JOIN d USING (request_id)
  ORDER BY i.ord
  RETURNING request_id, transfer_id, create_time
),
e AS (
  INSERT INTO ledger_entries (account_id, transfer_id, currency_code, amount_minor)
  SELECT v.account_id, t.transfer_id, i.currency_code, v.amount
  FROM t JOIN input i USING (request_id)
  CROSS JOIN LATERAL (VALUES (i.account_id, i.delta, 1), (i.counter_account_id, -i.delta, 2))
    AS v(account_id, amount, side)
  WHERE i.delta <> 0
  ORDER BY i.ord, v.side
),
b AS (
  UPDATE accounts a
  SET balance_minor = a.balance_minor + s.delta,
      owed_minor = a.owed_minor + s.owed,
      currency_locked = true,
      update_time = now()
  FROM (
    SELECT i.account_id,
           sum(i.delta)::bigint AS delta,
           sum(i.owed_added - i.owed_repaid)::bigint AS owed
    FROM input i JOIN t USING (request_id)
    WHERE i.delta <> 0 OR i.owed_added <> 0 OR i.owed_repaid <> 0
    GROUP BY i.account_id
  ) s
  WHERE a.account_id = s.account_id
)
SELECT
  i.ord AS ordinal,
  t.transfer_id::text AS transfer_id,
  (extract(epoch FROM t.create_time) * 1000000)::bigint AS create_time_us
FROM t JOIN input i USING (request_id)
ORDER BY i.ord
