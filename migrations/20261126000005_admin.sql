-- Merchant admin: the inventory audit trail, the admin audit log, feature flags, product
-- thumbnails, and the refund latch that keeps a double click from refunding twice.

CREATE TABLE inventory_adjustments (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku         text NOT NULL REFERENCES variants (sku) ON DELETE CASCADE ON UPDATE CASCADE,
    delta       integer NOT NULL CHECK (delta <> 0),
    stock_after integer NOT NULL CHECK (stock_after >= 0),
    reason      text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    actor_id    uuid REFERENCES users (id) ON DELETE SET NULL,
    actor_email text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inventory_adjustments_sku_idx ON inventory_adjustments (sku, id DESC);

-- Every admin action: who, what, on what, when.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor_id    uuid REFERENCES users (id) ON DELETE SET NULL,
    actor_email text NOT NULL,
    action      text NOT NULL,
    target      text NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_created_idx ON audit_log (created_at DESC, id DESC);

CREATE TABLE feature_flags (
    key         text PRIMARY KEY CHECK (key ~ '^[a-z0-9_]{1,64}$'),
    description text NOT NULL,
    enabled     boolean NOT NULL DEFAULT false,
    updated_by  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER feature_flags_updated_at BEFORE UPDATE ON feature_flags
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
INSERT INTO feature_flags (key, description, enabled)
VALUES ('express_shipping', 'Offer express shipping at checkout', true);

-- Listing pages show a smaller rendition of the product image.
ALTER TABLE products ADD COLUMN thumb_url text;

ALTER TABLE orders
    ADD COLUMN refund_requested_at timestamptz,
    ADD COLUMN shipped_at          timestamptz,
    ADD COLUMN delivered_at        timestamptz;
CREATE INDEX orders_status_created_idx ON orders (status, created_at DESC);
CREATE INDEX orders_created_idx ON orders (created_at DESC);
