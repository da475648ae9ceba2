-- Fraud holds (BlockCodes / UnblockCodes): ISSUED or ACTIVE ⇄ BLOCKED. A
-- blocked code remembers the state it left, so unblocking puts it back, and
-- why and when it was blocked, for support. A redeemed code becomes BLOCKED
-- only through a clawback (a later change).
ALTER TABLE codes DROP CONSTRAINT codes_state_check;
ALTER TABLE codes ADD CONSTRAINT codes_state_check
  CHECK (state IN ('ISSUED', 'ACTIVE', 'REDEEMING', 'REDEEMED', 'VOIDED', 'BLOCKED'));
ALTER TABLE codes
  ADD COLUMN blocked_from text CHECK (blocked_from IN ('ISSUED', 'ACTIVE')),
  ADD COLUMN block_reason text,
  ADD COLUMN block_time   timestamptz,
  ADD CONSTRAINT blocked_has_origin CHECK ((state = 'BLOCKED') = (blocked_from IS NOT NULL));

ALTER TABLE admin_requests DROP CONSTRAINT admin_requests_kind_check;
ALTER TABLE admin_requests ADD CONSTRAINT admin_requests_kind_check
  CHECK (kind IN ('ACTIVATE', 'VOID', 'BLOCK', 'UNBLOCK'));
