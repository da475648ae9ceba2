-- Clawbacks of fraudulent redemptions (ReverseRedemption): the vault's side
-- of a saga like the redemption's. PENDING until account-credit answers the
-- reversal (request id 'vault:clawback:' || clawback_id); COMPLETED moves
-- the code from REDEEMED to then_state in the same transaction.
CREATE TABLE clawbacks (
  request_id          text PRIMARY KEY,
  request_fingerprint text NOT NULL,
  clawback_id         uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  redemption_id       uuid NOT NULL,
  code_hash           bytea NOT NULL,
  serial              text NOT NULL,
  account_id          text NOT NULL,
  -- The credit transfer being taken back.
  credit_transfer_id  text NOT NULL,
  currency_code       text NOT NULL,
  amount_minor        bigint NOT NULL CHECK (amount_minor > 0),
  then_state          text NOT NULL CHECK (then_state IN ('BLOCKED', 'VOIDED')),
  reason              text NOT NULL,
  principal           text NOT NULL,
  state               text NOT NULL CHECK (state IN ('PENDING', 'COMPLETED', 'REJECTED')),
  -- For COMPLETED: the reversal, what it took back and the balance it left.
  transfer_id         text,
  clawed_back_minor   bigint CHECK (clawed_back_minor BETWEEN 0 AND amount_minor),
  balance_after_minor bigint,
  -- For REJECTED: the ledger's refusal, replayed to a retry.
  reject_code         integer,
  reject_reason       text,
  reject_message      text,
  attempts            integer NOT NULL DEFAULT 0,
  next_attempt_time   timestamptz NOT NULL DEFAULT now(),
  create_time         timestamptz NOT NULL DEFAULT now(),
  update_time         timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT completed_has_outcome
    CHECK ((state = 'COMPLETED') = (transfer_id IS NOT NULL AND clawed_back_minor IS NOT NULL))
);
-- A redemption is clawed back at most once (a refused attempt may be retried).
CREATE UNIQUE INDEX clawbacks_one_per_redemption ON clawbacks (redemption_id)
  WHERE state <> 'REJECTED';
CREATE INDEX clawbacks_pending ON clawbacks (next_attempt_time) WHERE state = 'PENDING';

-- A clawed-back code held as BLOCKED was blocked from REDEEMED; it is never
-- unblocked (UnblockCodes refuses it, CODE_CLAWED_BACK).
ALTER TABLE codes DROP CONSTRAINT codes_blocked_from_check;
ALTER TABLE codes ADD CONSTRAINT codes_blocked_from_check
  CHECK (blocked_from IN ('ISSUED', 'ACTIVE', 'REDEEMED'));
