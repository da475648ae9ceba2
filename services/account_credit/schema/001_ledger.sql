-- Accounts and the double-entry credit ledger.
--
-- Distribution key for Citus: account_id (accounts, ledger_entries) and
-- request_id (transfers). Only customer accounts have rows here; system
-- accounts (gift-funding/{CUR}, billing-revenue/{CUR}) exist only as ledger
-- entries, so no transfer ever contends on a shared hot row; their balances
-- are the sums of their entries.

CREATE TABLE accounts (
  account_id      text PRIMARY KEY,
  country         text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
  currency_code   text NOT NULL CHECK (currency_code ~ '^[A-Z]{3}$'),
  billing_channel text NOT NULL CHECK (billing_channel IN ('DIRECT', 'APP_STORE', 'PLAY_STORE', 'PARTNER')),
  balance_minor   bigint NOT NULL DEFAULT 0,
  create_time     timestamptz NOT NULL DEFAULT now(),
  update_time     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT customer_balance_non_negative CHECK (balance_minor >= 0)
);

CREATE TABLE transfers (
  request_id             text PRIMARY KEY,
  transfer_id            uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  -- What the request asked for; a replay must ask for the same thing.
  request_fingerprint    text NOT NULL,
  kind                   text NOT NULL CHECK (kind IN ('CREDIT', 'DEBIT', 'REVERSAL')),
  account_id             text NOT NULL,
  counter_account_id     text NOT NULL,
  currency_code          text NOT NULL,
  -- Zero only for a partial debit that found no credit (no entries then).
  amount_minor           bigint NOT NULL CHECK (amount_minor >= 0),
  balance_after_minor    bigint NOT NULL,
  reference              text NOT NULL DEFAULT '',
  reverses_transfer_id   uuid UNIQUE,
  create_time            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transfers_by_account ON transfers (account_id, create_time);

CREATE TABLE ledger_entries (
  account_id     text NOT NULL,
  entry_id       bigserial NOT NULL,
  transfer_id    uuid NOT NULL,
  currency_code  text NOT NULL,
  -- Signed: positive adds to the account. Every transfer's entries sum to zero.
  amount_minor   bigint NOT NULL CHECK (amount_minor <> 0),
  create_time    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, entry_id)
);
CREATE INDEX ledger_entries_by_transfer ON ledger_entries (transfer_id);

-- Entries are facts: the database itself refuses to change or remove them.
CREATE FUNCTION ledger_entries_are_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger entries are append-only (% refused)', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER ledger_entries_no_update_delete
  BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_entries_are_append_only();
CREATE TRIGGER ledger_entries_no_truncate
  BEFORE TRUNCATE ON ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_are_append_only();
CREATE TRIGGER transfers_no_update_delete
  BEFORE UPDATE OR DELETE ON transfers
  FOR EACH ROW EXECUTE FUNCTION ledger_entries_are_append_only();
