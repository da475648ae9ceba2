-- Each account's balance beside the sum of its entries. A balance counts
-- in its account's currency: entries in any other are counted apart,
-- never added to it. The owed amount beside what its transfers added and
-- repaid.
SELECT
  a.account_id,
  a.balance_minor,
  coalesce(sum(e.amount_minor) FILTER (WHERE e.currency_code = a.currency_code), 0)
    AS entries_minor,
  a.currency_code,
  count(e.entry_id) FILTER (WHERE e.currency_code <> a.currency_code) AS foreign_entries,
  a.owed_minor,
  (SELECT coalesce(sum(coalesce(t.owed_added_minor, 0) - t.owed_repaid_minor), 0)
   FROM transfers t
   WHERE t.account_id = a.account_id) AS transfers_owed_minor
FROM accounts a
LEFT JOIN ledger_entries e USING (account_id)
GROUP BY a.account_id, a.balance_minor, a.currency_code
