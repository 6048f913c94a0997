-- Discount codes. A code is kept upper-case (codes are case-insensitive); `redeemed` counts
-- the orders holding it now and is raised in the order's own transaction under the row's
-- lock, so a limit of K is never passed; a cancelled or expired order gives its use back.
CREATE TABLE promotions (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code               text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{1,31}$'),
    kind               text NOT NULL CHECK (kind IN ('percent', 'fixed', 'free_shipping')),
    -- Basis points for `percent`, minor units for `fixed`, NULL for `free_shipping`.
    value              bigint CHECK (
                           (kind = 'percent' AND value BETWEEN 1 AND 10000)
                        OR (kind = 'fixed' AND value > 0)
                        OR (kind = 'free_shipping' AND value IS NULL)),
    currency           text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    min_subtotal       bigint CHECK (min_subtotal >= 0),
    starts_at          timestamptz,
    ends_at            timestamptz,
    usage_limit        integer CHECK (usage_limit >= 1),
    per_customer_limit integer CHECK (per_customer_limit >= 1),
    -- Covered SKUs; covered categories are in promotion_categories. Neither: every line.
    skus               text[] NOT NULL DEFAULT '{}',
    active             boolean NOT NULL DEFAULT true,
    redeemed           integer NOT NULL DEFAULT 0 CHECK (redeemed >= 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT promotions_window CHECK (starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at),
    CONSTRAINT promotions_within_limit CHECK (usage_limit IS NULL OR redeemed <= usage_limit)
);
CREATE TRIGGER promotions_updated_at BEFORE UPDATE ON promotions
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- A category covers its whole subtree. RESTRICT: dropping a covered category would widen
-- the code to every line, so the category cannot go while a code names it.
CREATE TABLE promotion_categories (
    promotion_id bigint NOT NULL REFERENCES promotions (id) ON DELETE CASCADE,
    category_id  bigint NOT NULL REFERENCES categories (id) ON DELETE RESTRICT,
    PRIMARY KEY (promotion_id, category_id)
);
CREATE INDEX promotion_categories_category_idx ON promotion_categories (category_id);

-- One row per order that used a code; `released_at` is set once, when the order is
-- cancelled or expires, and only then is the use given back.
CREATE TABLE promotion_redemptions (
    order_id     uuid PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    promotion_id bigint NOT NULL REFERENCES promotions (id),
    user_id      uuid REFERENCES users (id) ON DELETE SET NULL,
    email        text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    released_at  timestamptz
);
CREATE INDEX promotion_redemptions_customer_idx
    ON promotion_redemptions (promotion_id, lower(email)) WHERE released_at IS NULL;
CREATE INDEX promotion_redemptions_user_idx
    ON promotion_redemptions (promotion_id, user_id) WHERE released_at IS NULL;

-- The order keeps its discount: the code, the amount off the goods, and each line's share.
-- Every order so far had none, so the new sum holds for them as it is.
ALTER TABLE orders
    ADD COLUMN discount_code   text,
    ADD COLUMN discount_amount bigint NOT NULL DEFAULT 0 CHECK (discount_amount >= 0),
    ADD COLUMN free_shipping   boolean NOT NULL DEFAULT false,
    DROP CONSTRAINT orders_check,
    ADD CONSTRAINT orders_amounts_add_up
        CHECK (total_amount = subtotal_amount - discount_amount + shipping_amount + tax_amount),
    ADD CONSTRAINT orders_discount_within_subtotal CHECK (discount_amount <= subtotal_amount);
ALTER TABLE order_lines
    ADD COLUMN discount_amount bigint NOT NULL DEFAULT 0 CHECK (discount_amount >= 0);
