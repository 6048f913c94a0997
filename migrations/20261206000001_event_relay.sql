-- The event relay publishes every outbox event to the broker named by EVENT_BUS_URL, in id
-- order, and marks it relayed only once the broker acknowledged it. The partial index keeps
-- "what is left to publish" cheap however long the outbox grows.
ALTER TABLE outbox ADD COLUMN relayed_at timestamptz;
CREATE INDEX outbox_unrelayed_idx ON outbox (id) WHERE relayed_at IS NULL;

-- A committed event wakes the relay at once (one notification per statement, delivered at
-- commit), so the time from commit to broker is not a polling interval.
CREATE FUNCTION notify_outbox_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bazaar_outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_relay_wakeup AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox_insert();
