-- Product options (Size, Color) with their values in display order, each variant's value
-- for each option, and merchant attributes (material, brand) for filtering.

CREATE TABLE product_options (
    product_id    bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    position      integer NOT NULL,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    option_values text[] NOT NULL CHECK (cardinality(option_values) BETWEEN 1 AND 100),
    PRIMARY KEY (product_id, position),
    UNIQUE (product_id, name)
);

-- `{"Size":"M"}`. No two variants of a product name the same values; the check is deferred
-- so that an edit may swap two variants' values within its transaction.
ALTER TABLE variants
    ADD COLUMN options jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(options) = 'object');
ALTER TABLE variants
    ADD CONSTRAINT variants_options_unique
    EXCLUDE USING btree (product_id WITH =, options WITH =) WHERE (options <> '{}')
    DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE products
    ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object');
CREATE INDEX products_attributes_idx ON products USING gin (attributes jsonb_path_ops);

-- The variants that exist become values of one option per product, named after what
-- their names look like: the demo's S/M/L and "US 9" become a Size, Black/White a Color.
-- A product with one variant, or with two variants of the same name, keeps no options.
WITH candidates AS (
    SELECT v.product_id,
           array_agg(v.name ORDER BY v.position, v.id) AS names,
           bool_and(v.name ~* '^(xxs|xs|s|m|l|xl|xxl|xxxl|[23]xl|small|medium|large|standard|(us|eu|uk) [0-9]+(\.5)?|[0-9]+(\.[0-9]+)? ?(ml|l|oz|g|kg|cm|mm|in))$')
               AS sizes,
           bool_and(v.name ~* '^(black|white|silver|gold|grey|gray|red|blue|green|yellow|orange|purple|pink|brown|navy|graphite|sand|beige|cream|ivory)$')
               AS colours,
           bool_and(v.name ~* '^(paperback|hardcover|ebook|audiobook)$') AS formats
      FROM variants v
     GROUP BY v.product_id
    HAVING count(*) >= 2 AND count(DISTINCT v.name) = count(*)
), named AS (
    SELECT product_id, names,
           CASE WHEN sizes THEN 'Size' WHEN colours THEN 'Color' WHEN formats THEN 'Format'
                ELSE 'Style' END AS option_name
      FROM candidates
), inserted AS (
    INSERT INTO product_options (product_id, position, name, option_values)
    SELECT product_id, 0, option_name, names FROM named
    RETURNING product_id, name
)
UPDATE variants v
   SET options = jsonb_build_object(i.name, v.name)
  FROM inserted i
 WHERE v.product_id = i.product_id;

-- Option and attribute edits are catalog changes like any other: replicas forget their
-- cached pages (see 20261202000001_cache_invalidation.sql).
CREATE TRIGGER product_options_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON product_options FOR EACH STATEMENT EXECUTE FUNCTION notify_cache_change();
