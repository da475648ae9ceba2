-- Events keep common.proto's promise (issue 27, item 10): credit.added and
-- credit.clawed_back carry the redemption id. A credit's request id is the
-- vault's redemption id; a clawback's is its original credit's.
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
