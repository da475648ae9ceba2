-- pgbench: the ceiling — the minimal redemption SQL of redemption.sql for 16
-- redemptions in one transaction, as batching at every hop would run it: one
-- statement per step over arrays (unnest), one commit for 16. Rows are locked
-- in one order (codes by the index scan of the array, accounts by the ORDER BY
-- the nested loop keeps), so batches do not deadlock each other: a hash
-- aggregate's order once cost deadlock_timeout per collision.
-- Its TPS × 16 is redemptions/s.
\set c0 random(1, 1000000)
\set a0 random(1, 1000)
\set c1 random(1, 1000000)
\set a1 random(1, 1000)
\set c2 random(1, 1000000)
\set a2 random(1, 1000)
\set c3 random(1, 1000000)
\set a3 random(1, 1000)
\set c4 random(1, 1000000)
\set a4 random(1, 1000)
\set c5 random(1, 1000000)
\set a5 random(1, 1000)
\set c6 random(1, 1000000)
\set a6 random(1, 1000)
\set c7 random(1, 1000000)
\set a7 random(1, 1000)
\set c8 random(1, 1000000)
\set a8 random(1, 1000)
\set c9 random(1, 1000000)
\set a9 random(1, 1000)
\set c10 random(1, 1000000)
\set a10 random(1, 1000)
\set c11 random(1, 1000000)
\set a11 random(1, 1000)
\set c12 random(1, 1000000)
\set a12 random(1, 1000)
\set c13 random(1, 1000000)
\set a13 random(1, 1000)
\set c14 random(1, 1000000)
\set a14 random(1, 1000)
\set c15 random(1, 1000000)
\set a15 random(1, 1000)
BEGIN;
UPDATE bench_codes SET state = 'REDEEMED' WHERE code_id = ANY (ARRAY[:c0,:c1,:c2,:c3,:c4,:c5,:c6,:c7,:c8,:c9,:c10,:c11,:c12,:c13,:c14,:c15]::bigint[]) AND state = 'ACTIVE';
INSERT INTO bench_ledger (account_id, amount_minor) SELECT a, 2500 FROM unnest(ARRAY[:a0,:a1,:a2,:a3,:a4,:a5,:a6,:a7,:a8,:a9,:a10,:a11,:a12,:a13,:a14,:a15]::bigint[]) a;
UPDATE bench_accounts b SET balance_minor = b.balance_minor + 2500 * x.n FROM (SELECT a, count(*) AS n FROM unnest(ARRAY[:a0,:a1,:a2,:a3,:a4,:a5,:a6,:a7,:a8,:a9,:a10,:a11,:a12,:a13,:a14,:a15]::bigint[]) a GROUP BY a ORDER BY a) x WHERE b.account_id = x.a;
END;
