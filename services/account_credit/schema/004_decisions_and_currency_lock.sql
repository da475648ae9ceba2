-- One decision per request id, a transfer or a recorded refusal, whichever
-- commits first: both paths insert here first, so two calls with one
-- request id can never decide differently (the second meets the first's
-- row, is rerun and replays the first's answer).
CREATE TABLE decisions (
  request_id  text PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('TRANSFER', 'REFUSAL')),
  create_time timestamptz NOT NULL DEFAULT now()
);
INSERT INTO decisions (request_id, kind) SELECT request_id, 'TRANSFER' FROM transfers;
INSERT INTO decisions (request_id, kind) SELECT request_id, 'REFUSAL' FROM refusals
  ON CONFLICT (request_id) DO NOTHING;

-- An account's currency is fixed once it has a ledger entry: the posting
-- that writes the first entry sets the lock, and UpsertAccount refuses a
-- currency change on a locked account (CURRENCY_LOCKED).
ALTER TABLE accounts ADD COLUMN currency_locked boolean NOT NULL DEFAULT false;
UPDATE accounts a SET currency_locked = true
  WHERE EXISTS (SELECT 1 FROM ledger_entries e WHERE e.account_id = a.account_id);

-- The ledger itself refuses an entry of a customer account in another
-- currency than the account's (system accounts have no row: one per currency).
CREATE FUNCTION ledger_entry_in_account_currency() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM accounts
             WHERE account_id = NEW.account_id AND currency_code <> NEW.currency_code) THEN
    RAISE EXCEPTION 'ledger entry in % for an account in another currency', NEW.currency_code
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER ledger_entries_in_account_currency
  BEFORE INSERT ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_entry_in_account_currency();
