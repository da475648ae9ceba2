-- Citus layout of account-credit's database (docs/scaling.md). Run once on
-- the coordinator after the service's migrations. tests/system/scaling_test.cc
-- checks that every table of the schema is named here and that each
-- distribution column is part of its table's primary key.

-- A customer's balance and its entries live together.
SELECT create_distributed_table('accounts', 'account_id');
SELECT create_distributed_table('ledger_entries', 'account_id', colocate_with => 'accounts');

-- Transfers are found by the caller's request_id, the idempotency key.
SELECT create_distributed_table('transfers', 'request_id');
SELECT create_distributed_table('refusals', 'request_id', colocate_with => 'transfers');
-- One decision per request id: with the transfer or refusal it decides.
SELECT create_distributed_table('decisions', 'request_id', colocate_with => 'transfers');

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
