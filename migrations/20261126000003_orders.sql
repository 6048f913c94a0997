-- Orders: lines snapshotted at checkout prices, stock taken at placement and given back
-- exactly once if the order is cancelled or expires unpaid.

CREATE TABLE orders (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id           uuid REFERENCES users (id) ON DELETE SET NULL,
    email             text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    status            text NOT NULL DEFAULT 'pending_payment'
                      CHECK (status IN ('pending_payment', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded')),
    currency          text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    subtotal_amount   bigint NOT NULL CHECK (subtotal_amount >= 0),
    shipping_amount   bigint NOT NULL CHECK (shipping_amount >= 0),
    tax_amount        bigint NOT NULL CHECK (tax_amount >= 0),
    total_amount      bigint NOT NULL CHECK (total_amount = subtotal_amount + shipping_amount + tax_amount),
    shipping_method   text NOT NULL CHECK (shipping_method IN ('standard', 'express')),
    shipping_address  jsonb NOT NULL,
    -- Who may replay a checkout with the same key: the user, or the guest session.
    idempotency_scope text NOT NULL,
    idempotency_key   text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    payment_session   text UNIQUE,
    expires_at        timestamptz NOT NULL,
    stock_released_at timestamptz,
    tracking_number   text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (idempotency_scope, idempotency_key)
);
CREATE INDEX orders_user_idx ON orders (user_id, created_at DESC);
CREATE INDEX orders_expiry_idx ON orders (expires_at) WHERE status = 'pending_payment';
CREATE TRIGGER orders_updated_at BEFORE UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE order_lines (
    order_id    uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    sku         text NOT NULL,
    name        text NOT NULL,
    quantity    integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    unit_amount bigint NOT NULL CHECK (unit_amount >= 0),
    PRIMARY KEY (order_id, sku)
);

-- Every status change, for the order page's history and for audits.
CREATE TABLE order_status_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    from_status text,
    to_status   text NOT NULL,
    reason      text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_status_changes_order_idx ON order_status_changes (order_id, id);
