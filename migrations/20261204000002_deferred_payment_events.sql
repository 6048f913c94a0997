-- A provider event that arrived before what it refers to (a refund reported before the
-- payment it refunds) is kept with its object and applied again by reconciliation.
ALTER TABLE webhook_events ADD COLUMN payload jsonb;
CREATE INDEX webhook_events_deferred_idx ON webhook_events (received_at)
    WHERE outcome LIKE 'deferred%';
