-- After a move of $1 events.
UPDATE event_counter SET last_event_id = last_event_id + $1
