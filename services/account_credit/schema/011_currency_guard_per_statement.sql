-- The currency guard (004) once per statement instead of once per entry:
-- a batch of 16 credits wrote 32 entries and ran the PL/pgSQL guard 32
-- times, about 20 µs each (pg_stat_user_functions in bench/floor.sh). Over
-- a transition table it runs once, and looks each account up in one join.
-- The same refusal: the statement fails with check_violation, naming the
-- currency, and nothing it wrote stays. System accounts have no row in
-- accounts, so, as before, they are not checked here.
DROP TRIGGER ledger_entries_in_account_currency ON ledger_entries;
DROP FUNCTION ledger_entry_in_account_currency();
CREATE FUNCTION ledger_entries_in_account_currency() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  foreign_currency text;
BEGIN
  SELECT n.currency_code INTO foreign_currency
  FROM new_entries n JOIN accounts a ON a.account_id = n.account_id
  WHERE a.currency_code <> n.currency_code
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger entry in % for an account in another currency', foreign_currency
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER ledger_entries_in_account_currency
  AFTER INSERT ON ledger_entries
  REFERENCING NEW TABLE AS new_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_in_account_currency();
