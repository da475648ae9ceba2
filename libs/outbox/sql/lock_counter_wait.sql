-- The same lock, waited for: a reader that must see every event committed
-- before its call lets the running relay finish, then moves the rest itself.
SELECT last_event_id FROM event_counter FOR UPDATE
