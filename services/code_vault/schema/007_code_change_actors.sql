-- Who made each change of a code and why (issue 15, item 5). An admin
-- call's transaction names its caller, reason and request id first
-- (set_config(..., true): they end with the transaction, so a pooled
-- connection never carries them to the next one); the trigger writes them
-- next to each change it records. A redemption's steps name none: their
-- redemption_id says what made them.
ALTER TABLE code_events
  ADD COLUMN principal  text,
  ADD COLUMN reason     text,
  ADD COLUMN request_id text;

CREATE OR REPLACE FUNCTION record_code_event() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  who text := nullif(current_setting('giftcard.principal', true), '');
  why text := nullif(current_setting('giftcard.reason', true), '');
  req text := nullif(current_setting('giftcard.request_id', true), '');
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO code_events (code_hash, from_state, to_state, principal, reason, request_id)
    VALUES (NEW.code_hash, NULL, NEW.state, who, why, req);
  ELSIF NEW.state IS DISTINCT FROM OLD.state THEN
    INSERT INTO code_events (code_hash, from_state, to_state, redemption_id, principal, reason,
                             request_id)
    VALUES (NEW.code_hash, OLD.state, NEW.state, coalesce(NEW.redemption_id, OLD.redemption_id),
            who, why, req);
  END IF;
  RETURN NEW;
END;
$$;
