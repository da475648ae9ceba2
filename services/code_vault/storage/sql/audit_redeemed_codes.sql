-- Every redeemed code with the redemption that took it.
SELECT
  serial,
  coalesce(redemption_id::text, '') AS redemption_id,
  coalesce(redeemed_by_account_id, '') AS redeemed_by_account_id
FROM codes
WHERE state = 'REDEEMED'
