-- A batch's codes in one statement: $1 their PIN hashes (hex), $8 their
-- serials and $9 their PINs' last four digits, item by item; the rest is
-- the batch's. Codes start ISSUED (not sold yet).
INSERT INTO codes (
  code_hash, pepper_key_id, serial, batch_id, pin_last4, currency_code, amount_minor, region,
  state, expire_time
)
SELECT
  decode(h, 'hex'), $2, s, $3::uuid, l, $4, $5, $6, 'ISSUED',
  to_timestamp($7::bigint / 1000000.0)
FROM unnest($1::text[], $8::text[], $9::text[]) AS t(h, s, l)
