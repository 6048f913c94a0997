-- Collections: merchant-curated, ordered lists of products, each with its own page.
-- A product may sit in many collections; deleting either side drops the membership.
CREATE TABLE collections (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text NOT NULL UNIQUE
                CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 120),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER collections_updated_at BEFORE UPDATE ON collections
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE collection_products (
    collection_id bigint NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    product_id    bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    position      integer NOT NULL CHECK (position >= 0),
    PRIMARY KEY (collection_id, product_id),
    UNIQUE (collection_id, position)
);

-- A product's collections, for deletes and for its page.
CREATE INDEX collection_products_product_idx ON collection_products (product_id);

-- The home page's collection list is cached like the rest of the catalog: every committed
-- change tells the replicas to forget it (see 20261202000001_cache_invalidation.sql).
CREATE TRIGGER collections_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON collections
    FOR EACH STATEMENT EXECUTE FUNCTION notify_cache_change();
CREATE TRIGGER collection_products_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON collection_products FOR EACH STATEMENT EXECUTE FUNCTION notify_cache_change();
