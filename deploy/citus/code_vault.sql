-- Citus layout of code-vault's database (docs/scaling.md). Run once on the
-- coordinator after the service's migrations. tests/system/scaling_test.cc
-- checks that every table of the schema is named here and that each
-- distribution column is part of its table's primary key.

-- Small, read on every issue and activation: a copy on every node.
SELECT create_reference_table('batches');

-- The redemption path reads and writes one code by its hash, and its history.
SELECT create_distributed_table('codes', 'code_hash');
SELECT create_distributed_table('code_events', 'code_hash', colocate_with => 'codes');

-- Redemptions are found by (account_id, request_id), the idempotency key.
SELECT create_distributed_table('redemptions', 'account_id');

-- Admin idempotency keys: rare, by request_id.
SELECT create_distributed_table('admin_requests', 'request_id');

-- Clawbacks, by their idempotency key. Citus keeps unique indexes only on
-- the distribution column: there, "one clawback per redemption" rests on
-- the code's row lock every clawback takes first (FOR UPDATE OF codes).
SELECT create_distributed_table('clawbacks', 'request_id');

-- The transactional outbox: reference tables for now, so the
-- triggers on distributed tables can write them in the same transaction;
-- every event write then reaches every node. A per-shard outbox, each with
-- its own counter, is the plan once Citus is adopted (docs/decisions.md,
-- "Events").
SELECT create_reference_table('event_outbox');
SELECT create_reference_table('events');
SELECT create_reference_table('event_counter');
-- The stream's epochs (a point-in-time restore starts one): tiny, read by WatchEvents.
SELECT create_reference_table('event_stream_epochs');
