-- Listing pages must cost the same with 240 products or 100,000. What a list sorts and
-- counts by is kept on the product (its cheapest price) and in a per-category counter, so
-- a page is an index range of 24 rows rather than an aggregate over the whole catalog.

ALTER TABLE products
    ADD COLUMN min_price bigint,
    ADD COLUMN price_currency text;

-- The cheapest variant of each touched product, recomputed once per statement.
CREATE FUNCTION products_refresh_price(ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    UPDATE products p
       SET min_price = v.min_price, price_currency = v.currency
      FROM (SELECT i.id,
                   (SELECT min(price_amount) FROM variants WHERE product_id = i.id) AS min_price,
                   (SELECT min(currency) FROM variants WHERE product_id = i.id) AS currency
              FROM unnest(ids) AS i(id)) v
     WHERE p.id = v.id
       AND (p.min_price, p.price_currency) IS DISTINCT FROM (v.min_price, v.currency);
$$;

CREATE FUNCTION variants_price_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM products_refresh_price(ARRAY(SELECT DISTINCT product_id FROM new_rows));
    RETURN NULL;
END;
$$;

CREATE FUNCTION variants_price_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM products_refresh_price(ARRAY(SELECT DISTINCT product_id FROM old_rows));
    RETURN NULL;
END;
$$;

CREATE FUNCTION variants_price_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM products_refresh_price(ARRAY[OLD.product_id, NEW.product_id]);
    RETURN NULL;
END;
$$;

CREATE TRIGGER variants_price_ins AFTER INSERT ON variants
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION variants_price_inserted();
CREATE TRIGGER variants_price_del AFTER DELETE ON variants
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION variants_price_deleted();
-- Row-level with a column list, so a checkout's stock update never fires it.
CREATE TRIGGER variants_price_upd AFTER UPDATE OF price_amount, currency, product_id ON variants
    FOR EACH ROW
    WHEN (OLD.price_amount IS DISTINCT FROM NEW.price_amount
          OR OLD.currency IS DISTINCT FROM NEW.currency
          OR OLD.product_id IS DISTINCT FROM NEW.product_id)
    EXECUTE FUNCTION variants_price_updated();

-- How many products each category lists: active, with at least one variant. No CHECK:
-- an upsert's proposed row carries the (possibly negative) delta, not the total.
CREATE TABLE listing_counts (
    category_id bigint PRIMARY KEY REFERENCES categories (id) ON DELETE CASCADE,
    listed      bigint NOT NULL DEFAULT 0,
    featured    bigint NOT NULL DEFAULT 0
);

-- Adds the statement's net change per category: +1 for each row that lists now, -1 for
-- each that listed before. Counters that do not move are not written, so an edit that
-- changes no listing never takes the category's counter lock.
CREATE FUNCTION listing_counts_apply(cats bigint[], listed int[], featured int[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO listing_counts AS lc (category_id, listed, featured)
    SELECT d.c, sum(d.l), sum(d.f)
      FROM unnest(cats, listed, featured) AS d(c, l, f)
     GROUP BY d.c
    HAVING sum(d.l) <> 0 OR sum(d.f) <> 0
     ORDER BY d.c
    ON CONFLICT (category_id) DO UPDATE
       SET listed = lc.listed + EXCLUDED.listed, featured = lc.featured + EXCLUDED.featured;
$$;

-- Transition tables exist only for the events a trigger fires on, hence the branches.
CREATE FUNCTION products_listing_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    d_cats bigint[] := '{}';
    d_listed int[] := '{}';
    d_featured int[] := '{}';
BEGIN
    IF TG_OP <> 'DELETE' THEN
        SELECT coalesce(array_agg(n.category_id), '{}'),
               coalesce(array_agg((n.active AND n.min_price IS NOT NULL)::int), '{}'),
               coalesce(array_agg((n.active AND n.featured AND n.min_price IS NOT NULL)::int), '{}')
          INTO d_cats, d_listed, d_featured
          FROM new_rows n;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        SELECT d_cats || coalesce(array_agg(o.category_id), '{}'),
               d_listed || coalesce(array_agg(-(o.active AND o.min_price IS NOT NULL)::int), '{}'),
               d_featured || coalesce(array_agg(-(o.active AND o.featured AND o.min_price IS NOT NULL)::int), '{}')
          INTO d_cats, d_listed, d_featured
          FROM old_rows o;
    END IF;
    PERFORM listing_counts_apply(d_cats, d_listed, d_featured);
    RETURN NULL;
END;
$$;

CREATE TRIGGER products_listing_ins AFTER INSERT ON products
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION products_listing_changed();
CREATE TRIGGER products_listing_upd AFTER UPDATE ON products
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION products_listing_changed();
CREATE TRIGGER products_listing_del AFTER DELETE ON products
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION products_listing_changed();

-- Backfill: prices first (which the counter trigger already counts), then the counts
-- again from scratch, so they are exact whatever the triggers made of the backfill.
SELECT products_refresh_price(ARRAY(SELECT id FROM products));
TRUNCATE listing_counts;
INSERT INTO listing_counts (category_id, listed, featured)
SELECT c.id,
       count(p.id) FILTER (WHERE p.active AND p.min_price IS NOT NULL),
       count(p.id) FILTER (WHERE p.active AND p.featured AND p.min_price IS NOT NULL)
  FROM categories c LEFT JOIN products p ON p.category_id = c.id
 GROUP BY c.id;

-- One index per sort, for the whole catalog and within a category, each holding only
-- listed products; the ties break newest first, as the list always has.
CREATE INDEX products_list_newest_idx ON products (created_at DESC, id DESC)
    WHERE active AND min_price IS NOT NULL;
CREATE INDEX products_list_cat_newest_idx ON products (category_id, created_at DESC, id DESC)
    WHERE active AND min_price IS NOT NULL;
CREATE INDEX products_list_price_idx ON products (min_price, created_at DESC, id DESC)
    WHERE active AND min_price IS NOT NULL;
CREATE INDEX products_list_cat_price_idx ON products (category_id, min_price, created_at DESC, id DESC)
    WHERE active AND min_price IS NOT NULL;
CREATE INDEX products_list_price_desc_idx ON products (min_price DESC, created_at DESC, id DESC)
    WHERE active AND min_price IS NOT NULL;
CREATE INDEX products_list_cat_price_desc_idx ON products (category_id, min_price DESC, created_at DESC, id DESC)
    WHERE active AND min_price IS NOT NULL;
CREATE INDEX products_list_name_idx ON products (lower(name), created_at DESC, id DESC)
    WHERE active AND min_price IS NOT NULL;
CREATE INDEX products_list_cat_name_idx ON products (category_id, lower(name), created_at DESC, id DESC)
    WHERE active AND min_price IS NOT NULL;
CREATE INDEX products_list_featured_idx ON products (created_at DESC, id DESC)
    WHERE active AND featured AND min_price IS NOT NULL;
