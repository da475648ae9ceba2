-- Accounts can be closed: a closed account takes no new gift credit.
ALTER TABLE accounts ADD COLUMN closed boolean NOT NULL DEFAULT false;
