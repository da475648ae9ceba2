-- The entries' sum per currency (zero when the books balance).
SELECT currency_code, sum(amount_minor) AS sum_minor
FROM ledger_entries
GROUP BY currency_code
