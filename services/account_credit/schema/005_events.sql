-- The transactional outbox (issue 15, item 6): the tables every service
-- shares, then this service's trigger.
\ir ../../../libs/outbox/outbox_tables.sql

-- account-credit's events: every transfer that moves a customer's credit.
-- A credit is a redemption's (its reference the code's serial, its request
-- id the vault's redemption id); a debit an invoice's (reference: the
-- invoice id); a reversal of a credit is a clawback, of a debit an invoice's
-- reversal. A transfer that takes the last credit also says so
-- (credit.depleted).
CREATE FUNCTION emit_transfer_events() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  original_kind text;
  original_reference text;
  kind text;
  takes boolean;
BEGIN
  IF NEW.kind = 'REVERSAL' THEN
    SELECT t.kind, t.reference INTO original_kind, original_reference
      FROM transfers t WHERE t.transfer_id = NEW.reverses_transfer_id;
  END IF;
  kind := CASE
    WHEN NEW.kind = 'CREDIT' THEN 'credit.added'
    WHEN NEW.kind = 'DEBIT' THEN 'credit.applied'
    WHEN original_kind = 'CREDIT' THEN 'credit.clawed_back'
    ELSE 'credit.reversed'
  END;
  takes := kind IN ('credit.applied', 'credit.clawed_back');
  -- A partial debit that found no credit moved nothing: no event.
  IF NEW.kind = 'DEBIT' AND NEW.amount_minor = 0 THEN
    RETURN NULL;
  END IF;
  INSERT INTO event_outbox (type, serial, account_id, transfer_id, invoice_id, request_id,
                            currency_code, amount_minor, balance_minor)
  VALUES (kind,
          CASE WHEN kind IN ('credit.added', 'credit.clawed_back')
               THEN coalesce(original_reference, NEW.reference) ELSE '' END,
          NEW.account_id, NEW.transfer_id::text,
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
CREATE TRIGGER transfers_emit_events
  AFTER INSERT ON transfers
  FOR EACH ROW EXECUTE FUNCTION emit_transfer_events();
