-- Search finds a name however its compound words are split: "tshirt", "t shirt" and
-- "T-Shirt" all become "tshirt" here, matched by substring through a trigram index.
ALTER TABLE products ADD COLUMN search_compact text
    GENERATED ALWAYS AS (lower(regexp_replace(name, '[^[:alnum:]]+', '', 'g'))) STORED;
CREATE INDEX products_search_compact_idx ON products USING gin (search_compact gin_trgm_ops);
