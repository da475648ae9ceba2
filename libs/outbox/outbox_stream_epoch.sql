-- Shared by every service's NNN_stream_epoch.sql migration (issue 29). The
-- event stream's identity: `deploy/local/stack.sh restore` (a point-in-time
-- restore) gives it a new value, because the event ids after the restore
-- point are gone and the counter hands them out again for other events.
ALTER TABLE event_counter ADD COLUMN stream_epoch text NOT NULL DEFAULT gen_random_uuid()::text;
-- Every epoch the stream has had, with the last event id it shares with the
-- epoch before it (0 for the first): a consumer resuming under an older
-- epoch keeps what it read up to the first later epoch's after_event_id.
CREATE TABLE event_stream_epochs (
  stream_epoch   text PRIMARY KEY,
  after_event_id bigint NOT NULL,
  start_time     timestamptz NOT NULL DEFAULT clock_timestamp()
);
INSERT INTO event_stream_epochs (stream_epoch, after_event_id) SELECT stream_epoch, 0 FROM event_counter;
