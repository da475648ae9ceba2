-- Names the caller, reason and request id of this transaction's changes
-- for the change log's trigger (migration 007); transaction-local.
SELECT
  set_config('giftcard.principal', $1, true),
  set_config('giftcard.reason', $2, true),
  set_config('giftcard.request_id', $3, true)
