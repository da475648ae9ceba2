-- What an account owes: a clawback recovers a fraudulent redemption whole,
-- what the balance covers now and the rest as owed, which any later credit
-- to the account (a redemption, an invoice's reversal) pays first. So no
-- order of redeem, apply, reverse and clawback changes where the money ends.
--
-- accounts.owed_minor is the account's owed amount; it is the sum over the
-- account's transfers of owed_added_minor (on a clawback: the part its
-- balance did not cover) minus owed_repaid_minor (on a credit: the part
-- that paid the owed). The money of a repayment moves in a transfer of its
-- own, kind REPAYMENT, from the account back to gift-funding, whose
-- request id is 'owed-repayment/' and the paying credit's request id ('/'
-- is never in a caller's id). Clawbacks written before this migration keep
-- what they recovered: their owed_added_minor is NULL (not recorded).
ALTER TABLE accounts ADD COLUMN owed_minor bigint NOT NULL DEFAULT 0
  CONSTRAINT customer_owed_non_negative CHECK (owed_minor >= 0);
ALTER TABLE transfers ADD COLUMN owed_added_minor bigint CHECK (owed_added_minor >= 0);
ALTER TABLE transfers ALTER COLUMN owed_added_minor SET DEFAULT 0;
ALTER TABLE transfers ADD COLUMN owed_repaid_minor bigint NOT NULL DEFAULT 0
  CHECK (owed_repaid_minor >= 0);
ALTER TABLE transfers DROP CONSTRAINT transfers_kind_check;
ALTER TABLE transfers ADD CONSTRAINT transfers_kind_check
  CHECK (kind IN ('CREDIT', 'DEBIT', 'REVERSAL', 'REPAYMENT'));

-- A repayment is told as credit.owed_repaid (reference: the serial or
-- invoice whose credit paid it); everything else as before.
CREATE OR REPLACE FUNCTION emit_transfer_events() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  original_kind text;
  original_reference text;
  original_request_id text;
  kind text;
  takes boolean;
BEGIN
  IF NEW.kind = 'REVERSAL' THEN
    SELECT t.kind, t.reference, t.request_id
      INTO original_kind, original_reference, original_request_id
      FROM transfers t WHERE t.transfer_id = NEW.reverses_transfer_id;
  END IF;
  kind := CASE
    WHEN NEW.kind = 'CREDIT' THEN 'credit.added'
    WHEN NEW.kind = 'DEBIT' THEN 'credit.applied'
    WHEN NEW.kind = 'REPAYMENT' THEN 'credit.owed_repaid'
    WHEN original_kind = 'CREDIT' THEN 'credit.clawed_back'
    ELSE 'credit.reversed'
  END;
  takes := kind IN ('credit.applied', 'credit.clawed_back');
  -- A partial debit that found no credit moved nothing: no event.
  IF NEW.kind = 'DEBIT' AND NEW.amount_minor = 0 THEN
    RETURN NULL;
  END IF;
  INSERT INTO event_outbox (type, serial, account_id, redemption_id, transfer_id, invoice_id,
                            request_id, currency_code, amount_minor, balance_minor)
  VALUES (kind,
          CASE WHEN kind IN ('credit.added', 'credit.clawed_back')
               THEN coalesce(original_reference, NEW.reference) ELSE '' END,
          NEW.account_id,
          CASE WHEN kind = 'credit.added' THEN NEW.request_id
               WHEN kind = 'credit.clawed_back' THEN original_request_id ELSE '' END,
          NEW.transfer_id::text,
          CASE WHEN kind IN ('credit.applied', 'credit.reversed')
               THEN coalesce(original_reference, NEW.reference) ELSE '' END,
          NEW.request_id, NEW.currency_code, NEW.amount_minor, NEW.balance_after_minor);
  IF takes AND NEW.amount_minor > 0 AND NEW.balance_after_minor = 0 THEN
    INSERT INTO event_outbox (type, account_id, transfer_id, request_id, currency_code,
                              amount_minor, balance_minor)
    VALUES ('credit.depleted', NEW.account_id, NEW.transfer_id::text, NEW.request_id,
            NEW.currency_code, NEW.amount_minor, 0);
  END IF;
  RETURN NULL;
END;
$$;
