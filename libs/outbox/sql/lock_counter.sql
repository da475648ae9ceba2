-- The counter's row lock makes one relay at a time across replicas; a
-- relay that finds it held leaves the work to the one holding it.
SELECT last_event_id FROM event_counter FOR UPDATE SKIP LOCKED
