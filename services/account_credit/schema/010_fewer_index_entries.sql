-- One index entry fewer for every transfer (docs/decisions.md, "The floor
-- for Postgres").
--
-- A transfer is reversed at most once, and the unique index on
-- reverses_transfer_id says so. Only a reversal has that id, yet every
-- credit and debit wrote a NULL entry into the index. A partial index holds
-- the reversals alone and refuses a second reversal just the same (NULLs
-- never collide). Building it reads transfers once and holds its writes
-- meanwhile: on a large ledger, build it beforehand with CREATE UNIQUE INDEX
-- CONCURRENTLY (the same definition) and this statement finds it there.
CREATE UNIQUE INDEX IF NOT EXISTS transfers_one_reversal_each ON transfers (reverses_transfer_id)
  WHERE reverses_transfer_id IS NOT NULL;
ALTER TABLE transfers DROP CONSTRAINT transfers_reverses_transfer_id_key;
