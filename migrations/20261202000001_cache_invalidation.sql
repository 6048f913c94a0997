-- Every replica caches catalog reads in memory. A committed change to a cached table
-- notifies them all (one notification per statement; Postgres folds duplicates within a
-- transaction), and each forgets what it cached. The payload names the table.
CREATE FUNCTION notify_cache_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bazaar_cache', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;

CREATE TRIGGER categories_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON categories
    FOR EACH STATEMENT EXECUTE FUNCTION notify_cache_change();
CREATE TRIGGER products_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION notify_cache_change();
CREATE TRIGGER variants_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON variants
    FOR EACH STATEMENT EXECUTE FUNCTION notify_cache_change();
CREATE TRIGGER feature_flags_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON feature_flags
    FOR EACH STATEMENT EXECUTE FUNCTION notify_cache_change();
