-- /metrics reads the outbox backlog on every scrape: these partial indexes make the counts
-- and the oldest pending event cost what the backlog costs, not what the table's history
-- costs. Retention (domain::retention) finds expired rows through the others.
CREATE INDEX outbox_pending_created_idx ON outbox (created_at) WHERE status = 'pending';
CREATE INDEX outbox_dead_idx ON outbox (id) WHERE status = 'dead';
CREATE INDEX outbox_done_processed_idx ON outbox (processed_at) WHERE status = 'done';
CREATE INDEX webhook_events_received_idx ON webhook_events (received_at);
CREATE INDEX emails_created_idx ON emails (created_at);
