-- Shared by every service's NNN_events.sql migration (included with psql's
-- \ir, which cmake/Migrations.cmake inlines at build time). Applied
-- migrations are history: never edit this file, add a migration instead.
--
-- The transactional outbox (issue 15, item 6). A change writes its events
-- to event_outbox in its own transaction (the triggers below, so no
-- statement can forget one and a rolled-back change leaves none). The relay
-- (libs/outbox) moves them to events in one transaction at a time, numbering
-- them from event_counter: event ids grow in the order events became
-- visible, so a consumer resuming after id N misses nothing that commits
-- later with a smaller number. Old events are pruned by age.
CREATE TABLE event_outbox (
  outbox_id     bigserial PRIMARY KEY,
  type          text NOT NULL,
  event_time    timestamptz NOT NULL DEFAULT now(),
  serial        text NOT NULL DEFAULT '',
  batch_id      text NOT NULL DEFAULT '',
  account_id    text NOT NULL DEFAULT '',
  redemption_id text NOT NULL DEFAULT '',
  transfer_id   text NOT NULL DEFAULT '',
  invoice_id    text NOT NULL DEFAULT '',
  request_id    text NOT NULL DEFAULT '',
  currency_code text NOT NULL DEFAULT '',
  amount_minor  bigint,
  balance_minor bigint
);
CREATE TABLE events (LIKE event_outbox INCLUDING DEFAULTS);
ALTER TABLE events DROP COLUMN outbox_id;
ALTER TABLE events ADD COLUMN event_id bigint PRIMARY KEY;
-- The last event id handed out; its row lock makes one relay at a time.
CREATE TABLE event_counter (
  singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  last_event_id bigint NOT NULL
);
INSERT INTO event_counter VALUES (true, 0);
