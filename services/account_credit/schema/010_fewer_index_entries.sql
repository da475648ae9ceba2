-- Two index entries fewer for every transfer (docs/decisions.md, "The floor
-- for Postgres"):
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
-- No statement looks ledger entries up by transfer: an account's entries are
-- read by account (the primary key), and the audit joins every entry to
-- every transfer, which a hash join does without this index. Each entry
-- (two per transfer) wrote into it at a random place, its key a random UUID.
DROP INDEX ledger_entries_by_transfer;
