-- Citus layout of billing's database (docs/scaling.md). Run once on the
-- coordinator after the service's migrations. tests/system/scaling_test.cc
-- checks that every table of the schema is named here and that each
-- distribution column is part of its table's primary key.

-- Every statement of ApplyCredit, ReverseCredit and the recovery worker
-- names one invoice.
SELECT create_distributed_table('credit_applications', 'invoice_id');

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
