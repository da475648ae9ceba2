-- The transactional outbox (issue 15, item 6): the tables every service
-- shares, then this service's trigger.
\ir ../../../libs/outbox/outbox_tables.sql

-- code-vault's events: a code's stored state changes (expiry is not one).
-- A redemption's completion names the account and the redemption; an
-- admin's change the request id its call set (cv_set_actor).
CREATE FUNCTION emit_code_event() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  kind text := CASE
    WHEN OLD.state = 'ISSUED' AND NEW.state = 'ACTIVE' THEN 'code.activated'
    WHEN NEW.state = 'REDEEMED' THEN 'code.redeemed'
    WHEN NEW.state = 'BLOCKED' THEN 'code.blocked'
    WHEN OLD.state = 'BLOCKED' AND NEW.state IN ('ISSUED', 'ACTIVE') THEN 'code.unblocked'
    WHEN NEW.state = 'VOIDED' THEN 'code.voided'
  END;
BEGIN
  IF kind IS NOT NULL THEN
    INSERT INTO event_outbox (type, serial, batch_id, account_id, redemption_id, request_id,
                              currency_code, amount_minor)
    VALUES (kind, NEW.serial, NEW.batch_id::text,
            CASE WHEN NEW.redemption_id IS NULL THEN '' ELSE coalesce(NEW.redeemed_by_account_id, '') END,
            coalesce(NEW.redemption_id::text, ''),
            coalesce(current_setting('giftcard.request_id', true), ''),
            NEW.currency_code, NEW.amount_minor);
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER codes_emit_events
  AFTER UPDATE OF state ON codes
  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)
  EXECUTE FUNCTION emit_code_event();
