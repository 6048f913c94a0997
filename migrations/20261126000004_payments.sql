-- Payments: what the provider told us about each checkout session, the webhook inbox,
-- and the dev provider's own sessions (it stands in for Stripe's side of the wire).

ALTER TABLE orders
    ADD COLUMN payment_provider text CHECK (payment_provider IN ('dev', 'stripe')),
    ADD COLUMN payment_url      text,
    ADD COLUMN payment_intent   text,
    ADD COLUMN paid_at          timestamptz,
    -- Set when a payment needs a person: an amount that does not match, or money taken
    -- for an order that was already cancelled (a refund is due).
    ADD COLUMN review_reason    text,
    -- The last declined attempt, shown on the order page so the shopper can try again.
    ADD COLUMN payment_error    text;
CREATE INDEX orders_payment_intent_idx ON orders (payment_intent) WHERE payment_intent IS NOT NULL;
CREATE INDEX orders_review_idx ON orders (created_at) WHERE review_reason IS NOT NULL;

-- One row per provider checkout session. `paid` is recorded in the same transaction as the
-- `payment_succeeded` event, so nothing can cancel an order whose money has arrived.
CREATE TABLE payments (
    session_id     text PRIMARY KEY,
    order_id       uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    provider       text NOT NULL CHECK (provider IN ('dev', 'stripe')),
    status         text NOT NULL DEFAULT 'open'
                   CHECK (status IN ('open', 'paid', 'failed', 'expired', 'refunded', 'review')),
    amount         bigint NOT NULL CHECK (amount >= 0),
    currency       text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    payment_intent text,
    refund_id      text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_order_idx ON payments (order_id);
CREATE TRIGGER payments_updated_at BEFORE UPDATE ON payments
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- The webhook inbox: each provider event id is processed once; replays are acknowledged.
CREATE TABLE webhook_events (
    id          text PRIMARY KEY,
    type        text NOT NULL,
    outcome     text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- The dev provider's sessions, as Stripe would keep them on its side.
CREATE TABLE dev_payment_sessions (
    id              text PRIMARY KEY,
    idempotency_key text NOT NULL UNIQUE,
    order_id        uuid NOT NULL,
    amount          bigint NOT NULL CHECK (amount >= 0),
    currency        text NOT NULL,
    customer_email  text NOT NULL,
    line_items      jsonb NOT NULL,
    success_url     text NOT NULL,
    cancel_url      text NOT NULL,
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'complete', 'expired')),
    payment_status  text NOT NULL DEFAULT 'unpaid' CHECK (payment_status IN ('unpaid', 'paid')),
    payment_intent  text NOT NULL,
    amount_refunded bigint NOT NULL DEFAULT 0,
    expires_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER dev_payment_sessions_updated_at BEFORE UPDATE ON dev_payment_sessions
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
