-- pgbench: the minimal SQL of one redemption, in one transaction — the
-- conditional update of a code, a ledger insert, a balance update.
\set code random(1, 1000000)
\set account random(1, 1000)
BEGIN;
UPDATE bench_codes SET state = 'REDEEMED' WHERE code_id = :code AND state = 'ACTIVE';
INSERT INTO bench_ledger (account_id, amount_minor) VALUES (:account, 2500);
UPDATE bench_accounts SET balance_minor = balance_minor + 2500 WHERE account_id = :account;
END;
