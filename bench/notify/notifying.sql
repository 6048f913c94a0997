-- The same write, with the NOTIFY a cache-invalidation trigger would send at commit.
\set k random(1, 1000)
BEGIN;
UPDATE notify_stock SET n = n + 1 WHERE id = :k;
INSERT INTO notify_orders (v) VALUES ('x');
SELECT pg_notify('bench_notify', '');
COMMIT;
