-- The transactional outbox (issue 15, item 6): the tables every service
-- shares, then this service's trigger.
\ir ../../../libs/outbox/outbox_tables.sql

-- billing's event: credit.low, the cue for a "your credit runs out soon"
-- e-mail, on the application that turns next_invoice_covered false: the
-- credit paid this invoice in full (so an earlier invoice of the same amount
-- saw it covered) and what remains does not cover another. Once per
-- invoice: only the change PENDING → APPLIED emits it.
CREATE FUNCTION emit_application_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.state = 'PENDING' AND NEW.state = 'APPLIED'
     AND NEW.applied_minor = NEW.amount_due_minor
     AND NEW.remaining_credit_minor < NEW.amount_due_minor THEN
    INSERT INTO event_outbox (type, account_id, transfer_id, invoice_id, request_id,
                              currency_code, amount_minor, balance_minor)
    VALUES ('credit.low', NEW.account_id, coalesce(NEW.debit_transfer_id, ''), NEW.invoice_id,
            NEW.invoice_id, NEW.currency_code, NEW.applied_minor, NEW.remaining_credit_minor);
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER credit_applications_emit_events
  AFTER UPDATE OF state ON credit_applications
  FOR EACH ROW EXECUTE FUNCTION emit_application_event();
