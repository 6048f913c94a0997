//! `server seed`: an idempotent, deterministic demo catalog with generated images.

use crate::media::MediaStore;
use sqlx::PgPool;
use types::{AppError, Slug};

/// How much to seed. The default is the full demo store: 10 categories of 24 products.
#[derive(Clone, Debug)]
pub struct SeedOptions {
    /// How many categories.
    pub categories: usize,
    /// Products in each.
    pub products_per_category: usize,
}

impl Default for SeedOptions {
    fn default() -> Self {
        SeedOptions {
            categories: CATEGORIES.len(),
            products_per_category: 24,
        }
    }
}

/// What a seed run wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// Categories written.
    pub categories: usize,
    /// Products written.
    pub products: usize,
    /// Variants written.
    pub variants: usize,
}

struct CategorySpec {
    slug: &'static str,
    name: &'static str,
    nouns: [&'static str; 6],
    variants: &'static [&'static str],
    /// Price range in whole currency units.
    price: (u64, u64),
    materials: [&'static str; 3],
    glyph: &'static str,
}

const CATEGORIES: [CategorySpec; 10] = [
    CategorySpec {
        slug: "apparel",
        name: "Apparel",
        nouns: [
            "T-Shirt",
            "Hoodie",
            "Rain Jacket",
            "Sweater",
            "Polo",
            "Cardigan",
        ],
        variants: &["S", "M", "L", "XL"],
        price: (18, 140),
        materials: ["organic cotton", "merino wool", "recycled polyester"],
        glyph: "shirt",
    },
    CategorySpec {
        slug: "footwear",
        name: "Footwear",
        nouns: [
            "Sneakers",
            "Boots",
            "Loafers",
            "Sandals",
            "Trail Runners",
            "Slippers",
        ],
        variants: &["US 8", "US 9", "US 10", "US 11"],
        price: (35, 190),
        materials: ["full-grain leather", "recycled mesh", "suede"],
        glyph: "shoe",
    },
    CategorySpec {
        slug: "home-kitchen",
        name: "Home & Kitchen",
        nouns: [
            "Mug",
            "Teapot",
            "Skillet",
            "Cutting Board",
            "Salad Bowl",
            "Carafe",
        ],
        variants: &["Standard"],
        price: (9, 120),
        materials: ["stoneware", "cast iron", "oiled oak"],
        glyph: "cup",
    },
    CategorySpec {
        slug: "electronics",
        name: "Electronics",
        nouns: [
            "Headphones",
            "Speaker",
            "Charger",
            "Keyboard",
            "Mouse",
            "Webcam",
        ],
        variants: &["Black", "White", "Silver"],
        price: (15, 350),
        materials: [
            "recycled aluminium",
            "matte polycarbonate",
            "anodized steel",
        ],
        glyph: "bolt",
    },
    CategorySpec {
        slug: "books",
        name: "Books",
        nouns: [
            "Novel",
            "Cookbook",
            "Field Guide",
            "Atlas",
            "Poetry Collection",
            "Memoir",
        ],
        variants: &["Paperback", "Hardcover"],
        price: (8, 45),
        materials: [
            "acid-free paper",
            "FSC-certified paper",
            "cloth-bound boards",
        ],
        glyph: "book",
    },
    CategorySpec {
        slug: "outdoor",
        name: "Outdoor",
        nouns: [
            "Tent",
            "Backpack",
            "Sleeping Bag",
            "Water Bottle",
            "Headlamp",
            "Camp Stove",
        ],
        variants: &["Standard", "Large"],
        price: (12, 420),
        materials: ["ripstop nylon", "recycled steel", "waxed canvas"],
        glyph: "mountain",
    },
    CategorySpec {
        slug: "beauty",
        name: "Beauty",
        nouns: [
            "Face Cream",
            "Shampoo",
            "Lip Balm",
            "Soap Bar",
            "Body Oil",
            "Serum",
        ],
        variants: &["50 ml", "100 ml"],
        price: (6, 60),
        materials: ["cold-pressed oils", "shea butter", "aloe and oat extract"],
        glyph: "drop",
    },
    CategorySpec {
        slug: "toys-games",
        name: "Toys & Games",
        nouns: [
            "Puzzle",
            "Board Game",
            "Building Blocks",
            "Plush Bear",
            "Kite",
            "Yo-Yo",
        ],
        variants: &["Standard"],
        price: (7, 80),
        materials: [
            "sustainable beech wood",
            "recycled cardboard",
            "soft organic cotton",
        ],
        glyph: "star",
    },
    CategorySpec {
        slug: "sports",
        name: "Sports",
        nouns: [
            "Yoga Mat",
            "Dumbbell",
            "Jump Rope",
            "Tennis Racket",
            "Football",
            "Cycling Gloves",
        ],
        variants: &["Regular", "Pro"],
        price: (10, 210),
        materials: ["natural rubber", "carbon fibre", "recycled foam"],
        glyph: "ball",
    },
    CategorySpec {
        slug: "office",
        name: "Office",
        nouns: [
            "Notebook",
            "Fountain Pen",
            "Desk Lamp",
            "Planner",
            "Pencil Set",
            "Desk Organizer",
        ],
        variants: &["Graphite", "Navy", "Sand"],
        price: (5, 95),
        materials: ["recycled paper", "brushed brass", "bamboo"],
        glyph: "pen",
    },
];

const ADJECTIVES: [&str; 12] = [
    "Classic", "Everyday", "Urban", "Alpine", "Coastal", "Heritage", "Minimal", "Vintage",
    "Nordic", "Summit", "Meadow", "Harbor",
];

/// A tiny deterministic generator (SplitMix64): the same names give the same store.
struct Rng(u64);

impl Rng {
    fn for_name(name: &str) -> Self {
        Rng(name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        }))
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Seeds the catalog in one transaction. Re-running updates names, prices and images in
/// place and never touches stock that a live store has since changed.
pub async fn run(
    db: &PgPool,
    media: &MediaStore,
    opts: &SeedOptions,
    mut progress: impl FnMut(usize, usize),
) -> Result<SeedReport, AppError> {
    let cats = &CATEGORIES[..opts.categories.min(CATEGORIES.len())];
    let per_cat = opts.products_per_category.min(ADJECTIVES.len() * 6);
    let total = cats.len() * per_cat;
    let mut report = SeedReport::default();
    let mut tx = db.begin().await?;

    for (ci, cat) in cats.iter().enumerate() {
        let category_id = sqlx::query_scalar!(
            r#"INSERT INTO categories (slug, name, description, position)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (slug) DO UPDATE
                 SET name = EXCLUDED.name, description = EXCLUDED.description, position = EXCLUDED.position
               RETURNING id"#,
            cat.slug,
            cat.name,
            format!("Hand-picked {} for every day.", cat.name.to_lowercase()),
            ci as i32,
        )
        .fetch_one(&mut *tx)
        .await?;
        report.categories += 1;

        for i in 0..per_cat {
            let name = format!(
                "{} {}",
                ADJECTIVES[i % ADJECTIVES.len()],
                cat.nouns[(i + i / ADJECTIVES.len()) % 6]
            );
            let slug = Slug::from_name(&name).map_err(|e| AppError::internal("seed slug", e))?;
            let mut rng = Rng::for_name(&name);
            let material = cat.materials[rng.below(3) as usize];
            let description = format!(
                "The {name} is made from {material} and built to last. It is part of our {} range: \
                 thoughtfully designed, fairly made, and backed by a two-year guarantee.",
                cat.name.to_lowercase()
            );
            let hue = rng.below(360);
            let image_url = media
                .put(
                    &format!("products/{slug}.svg"),
                    product_svg(&name, cat.glyph, hue).into_bytes(),
                )
                .await?;
            // Spread creation times so "newest" has a stable, meaningful order.
            let age_hours = i32::try_from(ci * per_cat + i).unwrap_or(0);
            let product_id = sqlx::query_scalar!(
                r#"INSERT INTO products (slug, name, description, category_id, image_url, featured, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6, now() - make_interval(hours => $7))
                   ON CONFLICT (slug) DO UPDATE
                     SET name = EXCLUDED.name, description = EXCLUDED.description,
                         category_id = EXCLUDED.category_id, image_url = EXCLUDED.image_url,
                         featured = EXCLUDED.featured
                   RETURNING id"#,
                slug.as_str(),
                name,
                description,
                category_id,
                image_url,
                i < 2,
                age_hours,
            )
            .fetch_one(&mut *tx)
            .await?;

            let (lo, hi) = cat.price;
            let base = (lo + rng.below(hi - lo)) * 100 + 99;
            // Roughly one product in twelve is sold out entirely; otherwise some sizes are.
            let sold_out = rng.below(12) == 0;
            for (vi, vname) in cat.variants.iter().enumerate() {
                let sku = format!("{}-{}", sku_stem(&slug), sku_stem_str(vname));
                let price =
                    i64::try_from(base + vi as u64 * if cat.variants.len() > 1 { 200 } else { 0 })
                        .unwrap_or(i64::MAX);
                let stock = if sold_out || rng.below(8) == 0 {
                    0
                } else {
                    1 + rng.below(60) as i32
                };
                sqlx::query!(
                    r#"INSERT INTO variants (product_id, sku, name, price_amount, currency, stock, position)
                       VALUES ($1, $2, $3, $4, 'USD', $5, $6)
                       ON CONFLICT (sku) DO UPDATE
                         SET product_id = EXCLUDED.product_id, name = EXCLUDED.name,
                             price_amount = EXCLUDED.price_amount, position = EXCLUDED.position"#,
                    product_id,
                    sku,
                    *vname,
                    price,
                    stock,
                    vi as i32,
                )
                .execute(&mut *tx)
                .await?;
                report.variants += 1;
            }
            report.products += 1;
            progress(report.products, total);
        }
    }
    tx.commit().await?;
    Ok(report)
}

fn sku_stem(slug: &Slug) -> String {
    sku_stem_str(slug.as_str())
}

fn sku_stem_str(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' => Some(c.to_ascii_uppercase()),
            ' ' | '-' => Some('-'),
            _ => None,
        })
        .collect()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A product picture drawn from the name: a colored card with the category's glyph.
fn product_svg(name: &str, glyph: &str, hue: u64) -> String {
    let shape = match glyph {
        "shirt" => {
            r#"<path d="M170 150l50-30h40l50 30 40 50-40 25-20-20v140H190V205l-20 20-40-25z"/>"#
        }
        "shoe" => {
            r#"<path d="M120 300c0-60 20-110 40-130h60c10 40 40 60 100 70 40 8 60 30 60 60v20H120z"/>"#
        }
        "cup" => {
            r#"<path d="M150 170h160v130a50 50 0 0 1-50 50h-60a50 50 0 0 1-50-50zM310 200h25a35 35 0 0 1 0 70h-25v-20h20a15 15 0 0 0 0-30h-20z"/>"#
        }
        "bolt" => r#"<path d="M260 110L160 260h70l-20 110 110-160h-70z"/>"#,
        "book" => {
            r#"<path d="M140 140h90a20 20 0 0 1 20 20v200a20 20 0 0 0-20-20h-90zM340 140h-70a20 20 0 0 0-20 20v200a20 20 0 0 1 20-20h70z"/>"#
        }
        "mountain" => r#"<path d="M100 350l110-180 60 90 40-50 90 140z"/>"#,
        "drop" => {
            r#"<path d="M240 110c50 80 90 130 90 180a90 90 0 0 1-180 0c0-50 40-100 90-180z"/>"#
        }
        "star" => r#"<path d="M240 110l38 85 92 8-70 60 22 90-82-48-82 48 22-90-70-60 92-8z"/>"#,
        "ball" => r#"<circle cx="240" cy="240" r="110"/>"#,
        _ => r#"<path d="M300 120l60 60-160 160-70 10 10-70z"/>"#,
    };
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 480 480" role="img" aria-label="{name}"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl({hue},70%,62%)"/><stop offset="1" stop-color="hsl({hue2},65%,42%)"/></linearGradient></defs><rect width="480" height="480" fill="url(#g)"/><g fill="#fff" fill-opacity=".9">{shape}</g><text x="240" y="440" font-family="system-ui,sans-serif" font-size="26" text-anchor="middle" fill="#fff">{name}</text></svg>"##,
        name = xml_escape(name),
        hue2 = (hue + 40) % 360,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_catalog_is_big_enough_and_names_are_unique() {
        let opts = SeedOptions::default();
        assert!(opts.categories >= 8);
        assert!(opts.categories * opts.products_per_category >= 200);
        let mut names = std::collections::HashSet::new();
        for cat in &CATEGORIES {
            for i in 0..opts.products_per_category {
                let name = format!("{} {}", ADJECTIVES[i % 12], cat.nouns[(i + i / 12) % 6]);
                assert!(names.insert(name.clone()), "duplicate {name}");
            }
        }
    }

    #[test]
    fn generator_is_deterministic() {
        let (mut a, mut b) = (Rng::for_name("Classic Mug"), Rng::for_name("Classic Mug"));
        assert_eq!((a.next(), a.next()), (b.next(), b.next()));
    }

    #[test]
    fn skus_are_valid() {
        let slug = Slug::from_name("Classic T-Shirt").expect("slug");
        let sku = format!("{}-{}", sku_stem(&slug), sku_stem_str("US 10"));
        assert_eq!(sku, "CLASSIC-T-SHIRT-US-10");
        assert!(types::Sku::parse(&sku).is_ok());
    }

    #[test]
    fn svg_escapes_names() {
        let svg = product_svg("Tom & <Jerry>", "star", 10);
        assert!(svg.contains("Tom &amp; &lt;Jerry&gt;"));
    }
}
