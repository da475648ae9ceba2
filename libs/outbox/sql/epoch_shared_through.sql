-- For a consumer's epoch $1 other than the current one: the last event id
-- its events share with the current stream. An epoch the history knows
-- shares ids up to the earliest restore after it; one it does not know (it
-- began after the point this database was restored to) shares what every
-- epoch since that point shares: ids up to the current epoch's start.
SELECT coalesce(
  (SELECT min(later.after_event_id)
   FROM event_stream_epochs mine
   JOIN event_stream_epochs later ON later.start_time > mine.start_time
   WHERE mine.stream_epoch = $1),
  (SELECT e.after_event_id
   FROM event_stream_epochs e
   JOIN event_counter c ON c.stream_epoch = e.stream_epoch),
  0) AS shared_through
