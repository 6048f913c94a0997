-- The W3C trace context a change was made under, so work that happens later (the
-- provider's webhook, an outbox event) joins the trace of the request that caused it.
ALTER TABLE orders ADD COLUMN trace_parent text;
ALTER TABLE outbox ADD COLUMN trace_parent text;
