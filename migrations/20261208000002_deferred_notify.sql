-- NOTIFY serializes commits: every notifying transaction queues behind one lock held
-- through its commit's WAL flush, so checkouts could never commit faster than the disk
-- flushes them one by one. A transaction that sets `bazaar.notify` to 'deferred' skips
-- these notifications and announces after commit instead, coalesced with its neighbours
-- (the checkout does, through `domain::coherence::Announcer`). Every other write,
-- including plain SQL, still notifies at commit as before.
CREATE OR REPLACE FUNCTION notify_cache_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('bazaar.notify', true) IS DISTINCT FROM 'deferred' THEN
        PERFORM pg_notify('bazaar_cache', TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION notify_outbox_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('bazaar.notify', true) IS DISTINCT FROM 'deferred' THEN
        PERFORM pg_notify('bazaar_outbox', '');
    END IF;
    RETURN NULL;
END;
$$;
