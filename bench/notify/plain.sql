-- One checkout-shaped write: a row update (the stock) and an insert (the order).
\set k random(1, 1000)
BEGIN;
UPDATE notify_stock SET n = n + 1 WHERE id = :k;
INSERT INTO notify_orders (v) VALUES ('x');
COMMIT;
