-- A product's gallery: ordered images with the alt text the merchant gave and the large
-- rendition's size, so pages reserve their space. The first image is the product's cover,
-- which `products.image_url` and `thumb_url` keep mirroring for listings.
CREATE TABLE product_images (
    product_id bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    position   integer NOT NULL CHECK (position >= 0),
    url        text NOT NULL,
    thumb_url  text NOT NULL,
    alt        text NOT NULL CHECK (length(alt) BETWEEN 1 AND 300),
    -- Unknown only for images stored before the gallery existed.
    width      integer CHECK (width > 0),
    height     integer CHECK (height > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Deferred, so that a reorder may pass through a shared position within its transaction.
    CONSTRAINT product_images_position UNIQUE (product_id, position) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT product_images_url UNIQUE (product_id, url)
);

-- The images products already have become the first of their galleries, described by the
-- product's name. The demo seed's pictures are 480 × 480 drawings.
INSERT INTO product_images (product_id, position, url, thumb_url, alt, width, height)
SELECT p.id, 0, p.image_url, COALESCE(p.thumb_url, p.image_url), left(p.name, 300),
       CASE WHEN p.image_url LIKE '%.svg' THEN 480 END,
       CASE WHEN p.image_url LIKE '%.svg' THEN 480 END
  FROM products p
 WHERE p.image_url IS NOT NULL;

CREATE TRIGGER product_images_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON product_images FOR EACH STATEMENT EXECUTE FUNCTION notify_cache_change();
