-- The time of the audit's snapshot.
SELECT (extract(epoch FROM now()) * 1000000)::bigint AS snapshot_time_us
