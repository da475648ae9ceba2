-- Codes, batches and redemptions of the code vault.
--
-- A PIN is never stored: codes are keyed by HMAC-SHA256(pepper, PIN) with the
-- pepper's key id, plus the last four symbols for support. Distribution key
-- for Citus: code_hash (codes, code_events), account_id (redemptions).

CREATE TABLE batches (
  batch_id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  batch_no            bigserial NOT NULL UNIQUE,
  request_id          text NOT NULL UNIQUE,
  request_fingerprint text NOT NULL,
  code_count          integer NOT NULL CHECK (code_count > 0),
  currency_code       text NOT NULL,
  amount_minor        bigint NOT NULL CHECK (amount_minor > 0),
  region              text NOT NULL,
  expire_time         timestamptz,
  create_time         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE codes (
  code_hash              bytea PRIMARY KEY,
  pepper_key_id          text NOT NULL,
  serial                 text NOT NULL UNIQUE,
  batch_id               uuid NOT NULL REFERENCES batches (batch_id),
  pin_last4              text NOT NULL,
  currency_code          text NOT NULL,
  amount_minor           bigint NOT NULL CHECK (amount_minor > 0),
  region                 text NOT NULL,
  state                  text NOT NULL CHECK (state IN ('ISSUED', 'ACTIVE', 'REDEEMING', 'REDEEMED', 'VOIDED')),
  create_time            timestamptz NOT NULL DEFAULT now(),
  activate_time          timestamptz,
  redeem_time            timestamptz,
  void_time              timestamptz,
  expire_time            timestamptz,
  redeemed_by_account_id text,
  redemption_id          uuid
);
CREATE INDEX codes_by_batch ON codes (batch_id, serial);

CREATE TABLE redemptions (
  account_id     text NOT NULL,
  request_id     text NOT NULL,
  redemption_id  uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  code_hash      bytea NOT NULL,
  serial         text NOT NULL,
  currency_code  text NOT NULL,
  amount_minor   bigint NOT NULL,
  region         text NOT NULL,
  state          text NOT NULL CHECK (state IN ('PENDING', 'COMPLETED', 'REJECTED')),
  -- For COMPLETED: the credit transfer and the balance it left.
  transfer_id    text,
  balance_after_minor bigint,
  -- For REJECTED: the refusal, replayed to a retry of the same request.
  reject_code    integer,
  reject_reason  text,
  reject_message text,
  create_time    timestamptz NOT NULL DEFAULT now(),
  update_time    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, request_id)
);
CREATE INDEX redemptions_pending ON redemptions (create_time) WHERE state = 'PENDING';

-- Every state change of a code, with its time: the audit trail.
CREATE TABLE code_events (
  code_hash     bytea NOT NULL,
  event_id      bigserial NOT NULL,
  from_state    text,
  to_state      text NOT NULL,
  redemption_id uuid,
  event_time    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (code_hash, event_id)
);

CREATE FUNCTION record_code_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO code_events (code_hash, from_state, to_state) VALUES (NEW.code_hash, NULL, NEW.state);
  ELSIF NEW.state IS DISTINCT FROM OLD.state THEN
    INSERT INTO code_events (code_hash, from_state, to_state, redemption_id)
    VALUES (NEW.code_hash, OLD.state, NEW.state, coalesce(NEW.redemption_id, OLD.redemption_id));
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER codes_record_event
  AFTER INSERT OR UPDATE OF state ON codes
  FOR EACH ROW EXECUTE FUNCTION record_code_event();
