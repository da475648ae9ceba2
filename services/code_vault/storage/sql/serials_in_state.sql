-- The named codes, locked, with the state a caller sees (an unredeemed
-- code past its expiry is EXPIRED) and the state a hold interrupted: a
-- change by serials checks them all before it changes any.
SELECT
  serial,
  CASE WHEN state IN ('ISSUED', 'ACTIVE') AND expire_time <= now() THEN 'EXPIRED' ELSE state END AS state,
  coalesce(blocked_from, '') AS blocked_from
FROM codes
WHERE serial = ANY($1::text[])
FOR UPDATE
