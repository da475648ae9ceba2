-- Settles many redemptions at once (a batch of concurrent calls), each
-- input row its own redemption with its code: PENDING to COMPLETED, the
-- code REDEEMING to REDEEMED. One statement for both tables, so it runs
-- without BEGIN/COMMIT. A row per redemption settled now; none for one no
-- longer PENDING.
WITH input AS (
  SELECT *
  FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
    AS i(account_id, request_id, transfer_id, balance_after_minor)
),
done AS (
  UPDATE redemptions r
  SET state = 'COMPLETED', transfer_id = i.transfer_id,
    balance_after_minor = i.balance_after_minor, update_time = now()
  FROM input i
  WHERE r.account_id = i.account_id AND r.request_id = i.request_id AND r.state = 'PENDING'
  RETURNING r.*
),
code AS (
  UPDATE codes c
  SET state = 'REDEEMED', redeem_time = now(), redeemed_by_account_id = done.account_id
  FROM done
  WHERE c.code_hash = done.code_hash AND c.redemption_id = done.redemption_id
    AND c.state = 'REDEEMING'
  RETURNING 1
)
SELECT
  done.account_id,
  done.request_id,
  done.redemption_id::text AS redemption_id,
  encode(done.code_hash, 'hex') AS code_hash_hex,
  done.serial,
  done.currency_code,
  done.amount_minor,
  done.region,
  done.state,
  coalesce(done.transfer_id, '') AS transfer_id,
  done.balance_after_minor,
  done.reject_code,
  coalesce(done.reject_reason, '') AS reject_reason,
  coalesce(done.reject_message, '') AS reject_message,
  (extract(epoch FROM done.create_time) * 1000000)::bigint AS create_time_us
FROM done
