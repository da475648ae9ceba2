-- Citus layout of billing's database (docs/scaling.md). Run once on the
-- coordinator after the service's migrations. tests/system/scaling_test.cc
-- checks that every table of the schema is named here and that each
-- distribution column is part of its table's primary key.

-- Every statement of ApplyCredit, ReverseCredit and the recovery worker
-- names one invoice.
SELECT create_distributed_table('credit_applications', 'invoice_id');
