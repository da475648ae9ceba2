-- Up to $5 events after id $1, of the types $2 (all when empty), of card
-- $3 and account $4 ('' for any).
SELECT
  event_id,
  type,
  serial,
  batch_id,
  account_id,
  redemption_id,
  transfer_id,
  invoice_id,
  request_id,
  currency_code,
  amount_minor,
  balance_minor,
  (extract(epoch FROM event_time) * 1000000)::bigint AS event_time_us
FROM events
WHERE event_id > $1
  AND (cardinality($2::text[]) = 0 OR type = ANY($2::text[]))
  AND ($3 = '' OR serial = $3)
  AND ($4 = '' OR account_id = $4)
ORDER BY event_id
LIMIT $5
