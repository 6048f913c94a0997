-- Typo-tolerant search corrects the shopper's words, not the catalog's names. Matching a
-- whole query against 100,000 names by trigrams rechecks thousands of rows; matching each
-- word against the few thousand distinct words of the catalog is cheap, and the corrected
-- words then go through the ordinary full-text index.
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;

-- The words of a name and description as the lexicon keeps them: lower-cased, letters
-- only, three or more of them (shorter words have too few trigrams to correct).
CREATE FUNCTION search_words(name text, description text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(w), '{}')
      FROM unnest(tsvector_to_array(to_tsvector('simple', name || ' ' || description))) AS w
     WHERE length(w) >= 3 AND w ~ '^[[:alpha:]]+$';
$$;

-- Each distinct word with the number of products that use it, so a word leaves when its
-- last product does. No CHECK: an upsert's proposed row carries the delta.
CREATE TABLE search_lexicon (
    word text PRIMARY KEY,
    uses bigint NOT NULL
);
CREATE INDEX search_lexicon_length_idx ON search_lexicon (length(word));

-- Edit distance with a swap of two neighbouring letters counting as one edit, as shoppers
-- type them ("tnet" for "tent"); Levenshtein alone counts two. `d` is the Levenshtein
-- distance, already computed by the caller's cheap filter.
CREATE FUNCTION search_typo_distance(typed text, word text, d int) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN d = 2 AND length(typed) = length(word) AND EXISTS (
                    SELECT 1 FROM generate_series(1, length(typed) - 1) AS i
                     WHERE overlay(typed PLACING substr(typed, i + 1, 1) || substr(typed, i, 1)
                                   FROM i FOR 2) = word)
                THEN 1 ELSE d END;
$$;

-- Adds a statement's net change per word, in word order so that concurrent writers take
-- the row locks in the same order, and drops the words no product uses any more.
CREATE FUNCTION search_lexicon_apply(words text[], deltas int[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO search_lexicon AS l (word, uses)
    SELECT d.w, sum(d.n)
      FROM unnest(words, deltas) AS d(w, n)
     GROUP BY d.w
    HAVING sum(d.n) <> 0
     ORDER BY d.w
    ON CONFLICT (word) DO UPDATE SET uses = l.uses + EXCLUDED.uses;
    DELETE FROM search_lexicon WHERE word = ANY (words) AND uses <= 0;
$$;

-- Transition tables exist only for the events a trigger fires on, hence the branches. An
-- update counts only the rows whose text changed: a price refresh touches no word.
CREATE FUNCTION products_lexicon_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    d_words text[] := '{}';
    d_deltas int[] := '{}';
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT coalesce(array_agg(w), '{}'), coalesce(array_agg(1), '{}')
          INTO d_words, d_deltas
          FROM new_rows n, unnest(search_words(n.name, n.description)) AS w;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT coalesce(array_agg(w), '{}'), coalesce(array_agg(-1), '{}')
          INTO d_words, d_deltas
          FROM old_rows o, unnest(search_words(o.name, o.description)) AS w;
    ELSE
        WITH moved AS (
            SELECT o.name AS old_name, o.description AS old_description,
                   n.name AS new_name, n.description AS new_description
              FROM old_rows o JOIN new_rows n ON n.id = o.id
             WHERE (o.name, o.description) IS DISTINCT FROM (n.name, n.description)
        ), d AS (
            SELECT w, 1 AS delta FROM moved, unnest(search_words(new_name, new_description)) AS w
            UNION ALL
            SELECT w, -1 FROM moved, unnest(search_words(old_name, old_description)) AS w
        )
        SELECT coalesce(array_agg(w), '{}'), coalesce(array_agg(delta), '{}')
          INTO d_words, d_deltas
          FROM d;
    END IF;
    IF cardinality(d_words) > 0 THEN
        PERFORM search_lexicon_apply(d_words, d_deltas);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER products_lexicon_ins AFTER INSERT ON products
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION products_lexicon_changed();
CREATE TRIGGER products_lexicon_upd AFTER UPDATE ON products
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION products_lexicon_changed();
CREATE TRIGGER products_lexicon_del AFTER DELETE ON products
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION products_lexicon_changed();

INSERT INTO search_lexicon (word, uses)
SELECT w, count(*) FROM products, unnest(search_words(name, description)) AS w GROUP BY w;

-- The whole-name trigram match this replaces had no other reader.
DROP INDEX products_name_trgm_idx;
