-- Oldest outbox rows first; each gets the next id after $1, at most $2 of
-- them. One statement, so the rows deleted are exactly the rows numbered:
-- in one snapshot, the rows up to the $2-th visible id are the first $2
-- visible rows. A range on the key, not `IN (subquery)`: the outbox is
-- empty most of the time, and a generic plan made over it empty re-ran
-- that subquery for every row of a later burst (68 s for 5,000 of 50,000
-- rows; OutboxTest).
WITH moved AS (
  DELETE FROM event_outbox
  WHERE outbox_id <= (
    SELECT max(outbox_id)
    FROM (SELECT outbox_id FROM event_outbox ORDER BY outbox_id LIMIT $2) oldest)
  RETURNING outbox_id, type, event_time, serial, batch_id, account_id, redemption_id,
    transfer_id, invoice_id, request_id, currency_code, amount_minor, balance_minor
)
INSERT INTO events (event_id, type, event_time, serial, batch_id, account_id, redemption_id,
  transfer_id, invoice_id, request_id, currency_code, amount_minor, balance_minor)
SELECT $1 + row_number() OVER (ORDER BY outbox_id),
  type, event_time, serial, batch_id, account_id, redemption_id,
  transfer_id, invoice_id, request_id, currency_code, amount_minor, balance_minor
FROM moved
