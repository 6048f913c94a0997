-- A refund is recorded before the provider is called, so one that outlives its request
-- (a slow or unreachable provider) is finished later by the payment loop instead of
-- leaving the order paid with the money in limbo.
CREATE TABLE refunds (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id        uuid NOT NULL REFERENCES orders (id),
    amount          bigint NOT NULL CHECK (amount > 0),
    currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    payment_intent  text NOT NULL,
    -- What the order becomes once the money is back.
    then_status     text NOT NULL CHECK (then_status IN ('refunded', 'cancelled')),
    reason          text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    provider_ref    text,
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    -- A claim: no other attempt starts before this.
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    actor_id        uuid NOT NULL,
    actor_email     text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX refunds_one_pending_per_order ON refunds (order_id) WHERE status = 'pending';
CREATE INDEX refunds_due_idx ON refunds (next_attempt_at) WHERE status = 'pending';
CREATE TRIGGER refunds_updated_at BEFORE UPDATE ON refunds
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
