-- The credit the accounts hold, per currency: the total, how many
-- accounts hold some, and the time of the read.
SELECT
  currency_code,
  sum(balance_minor)::bigint AS balance_minor,
  count(*) FILTER (WHERE balance_minor > 0) AS accounts,
  (extract(epoch FROM now()) * 1000000)::bigint AS read_time_us
FROM accounts
GROUP BY currency_code
HAVING sum(balance_minor) > 0
ORDER BY currency_code
