-- Categories nest: a category may have a parent, and a listing by category includes its
-- descendants. A category cannot be its own parent here; longer cycles are refused by
-- the domain under a lock (a CHECK cannot see other rows).
ALTER TABLE categories
    ADD COLUMN parent_id bigint REFERENCES categories (id),
    ADD CONSTRAINT categories_not_own_parent CHECK (parent_id <> id);

CREATE INDEX categories_parent_idx ON categories (parent_id);
