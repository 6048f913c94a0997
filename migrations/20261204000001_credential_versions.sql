-- Every password change bumps the user's credential version. Sessions and API tokens
-- carry the version they were issued under, and one from before the change no longer
-- signs anybody in.
ALTER TABLE users ADD COLUMN auth_version integer NOT NULL DEFAULT 1 CHECK (auth_version >= 1);

-- Removing a variant keeps its stock history: the trail names the SKU, it does not own it.
ALTER TABLE inventory_adjustments DROP CONSTRAINT inventory_adjustments_sku_fkey;
