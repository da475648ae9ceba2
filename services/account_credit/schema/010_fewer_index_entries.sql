-- One index entry fewer for every transfer (docs/decisions.md, "The floor
-- for Postgres").
--
-- A transfer is reversed at most once, and the unique index on
-- reverses_transfer_id says so. Only a reversal has that id, yet every
-- credit and debit wrote a NULL entry into the index. A partial index holds
-- the reversals alone and refuses a second reversal just the same (NULLs
-- never collide). Building it reads transfers once and holds the ledger's
-- writes meanwhile (docs/decisions.md says when to apply it). Not IF NOT
-- EXISTS: an index left invalid by a failed concurrent build would pass that
-- test, and the old index would go with nothing valid behind it.
CREATE UNIQUE INDEX transfers_one_reversal_each ON transfers (reverses_transfer_id)
  WHERE reverses_transfer_id IS NOT NULL;
ALTER TABLE transfers DROP CONSTRAINT transfers_reverses_transfer_id_key;
