-- Pruning removes a prefix of the event ids and remembers where it ended.
\ir ../../../libs/outbox/outbox_pruned_through.sql
