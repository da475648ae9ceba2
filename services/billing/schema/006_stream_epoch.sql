-- The event stream gets an identity that a point-in-time restore changes.
\ir ../../../libs/outbox/outbox_stream_epoch.sql
