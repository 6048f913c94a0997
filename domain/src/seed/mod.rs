//! `server seed`: an idempotent, deterministic demo catalog with generated images.

mod data;

use crate::media::MediaStore;
use data::{product_svg, CategorySpec, ADJECTIVES, CATEGORIES, MODELS};
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;
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

/// Products written per statement: big enough that a 100,000-product catalog is a few
/// hundred round trips, small enough that the arrays stay a few hundred kilobytes.
const BATCH: usize = 1_000;

/// One product to write, with its variants and the product line whose picture it shows.
struct PlannedProduct {
    slug: Slug,
    name: String,
    description: String,
    line: Slug,
    line_name: String,
    featured: bool,
    age_hours: i32,
    /// `{"material": ...}`, for the listing's filters.
    attributes: serde_json::Value,
    variants: Vec<PlannedVariant>,
}

struct PlannedVariant {
    sku: String,
    name: &'static str,
    price: i64,
    stock: i32,
}

/// The name of product `i` of a category. The first 72 are the demo store's
/// "{adjective} {noun}" lines; a larger catalog adds models of each line ("Alpine Tent Pro 3").
fn product_name(cat: &CategorySpec, i: usize) -> (String, String) {
    let lines = ADJECTIVES.len() * cat.nouns.len();
    let line_no = i % lines;
    let line = format!(
        "{} {}",
        ADJECTIVES[line_no % ADJECTIVES.len()],
        cat.nouns[(line_no + line_no / ADJECTIVES.len()) % cat.nouns.len()]
    );
    let series = i / lines;
    let name = if series == 0 {
        line.clone()
    } else {
        let model = MODELS[(series - 1) % MODELS.len()];
        format!("{line} {model} {}", (series - 1) / MODELS.len() + 1)
    };
    (name, line)
}

fn plan(cat: &CategorySpec, i: usize, age_hours: i32) -> Result<PlannedProduct, AppError> {
    let (name, line_name) = product_name(cat, i);
    let slug = Slug::from_name(&name).map_err(|e| AppError::internal("seed slug", e))?;
    let line = Slug::from_name(&line_name).map_err(|e| AppError::internal("seed slug", e))?;
    let mut rng = Rng::for_name(&name);
    let material = cat.materials[rng.below(3) as usize];
    let description = format!(
        "The {name} is made from {material} and built to last. It is part of our {} range: \
         thoughtfully designed, fairly made, and backed by a two-year guarantee.",
        cat.name.to_lowercase()
    );
    let _hue = rng.below(360);
    let (lo, hi) = cat.price;
    let base = (lo + rng.below(hi - lo)) * 100 + 99;
    // Roughly one product in twelve is sold out entirely; otherwise some sizes are.
    let sold_out = rng.below(12) == 0;
    let step = if cat.variants.len() > 1 { 200 } else { 0 };
    let variants = cat
        .variants
        .iter()
        .enumerate()
        .map(|(vi, vname)| PlannedVariant {
            sku: format!("{}-{}", sku_stem(&slug), sku_stem_str(vname)),
            name: vname,
            price: i64::try_from(base + vi as u64 * step).unwrap_or(i64::MAX),
            stock: if sold_out || rng.below(8) == 0 {
                0
            } else {
                1 + rng.below(60) as i32
            },
        })
        .collect();
    Ok(PlannedProduct {
        slug,
        name,
        description,
        line,
        line_name,
        featured: i < 2,
        age_hours,
        attributes: serde_json::json!({ "material": capitalized(material) }),
        variants,
    })
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Seeds the catalog in one transaction, a thousand products per statement. Re-running
/// updates names, prices and images in place and never touches stock that a live store
/// has since changed. Products of one line share its picture, so a large catalog stores
/// at most 72 pictures per category.
pub async fn run(
    db: &PgPool,
    media: &MediaStore,
    opts: &SeedOptions,
    mut progress: impl FnMut(usize, usize),
) -> Result<SeedReport, AppError> {
    let cats = &CATEGORIES[..opts.categories.min(CATEGORIES.len())];
    let per_cat = opts.products_per_category;
    let total = cats.len() * per_cat;
    let mut report = SeedReport::default();
    let mut pictures: HashMap<String, String> = HashMap::new();
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

        for start in (0..per_cat).step_by(BATCH) {
            let batch = (start..(start + BATCH).min(per_cat))
                .map(|i| {
                    // Spread creation times so "newest" has a stable, meaningful order.
                    let age = i32::try_from(ci * per_cat + i).unwrap_or(i32::MAX);
                    plan(cat, i, age)
                })
                .collect::<Result<Vec<_>, _>>()?;
            for p in &batch {
                if !pictures.contains_key(p.line.as_str()) {
                    // The line's hue is the one its first product draws, as the demo store had.
                    let mut rng = Rng::for_name(&p.line_name);
                    rng.below(3);
                    let url = media
                        .put(
                            &format!("products/{}.svg", p.line),
                            product_svg(&p.line_name, cat.glyph, rng.below(360)).into_bytes(),
                        )
                        .await?;
                    pictures.insert(p.line.as_str().to_owned(), url);
                }
            }
            write_batch(&mut tx, category_id, cat.option, &batch, &pictures).await?;
            report.products += batch.len();
            report.variants += batch.iter().map(|p| p.variants.len()).sum::<usize>();
            progress(report.products, total);
        }
    }
    tx.commit().await?;
    Ok(report)
}

/// Upserts one batch of products, then their variants, each in one statement.
async fn write_batch(
    tx: &mut PgConnection,
    category_id: i64,
    option: Option<&str>,
    batch: &[PlannedProduct],
    pictures: &HashMap<String, String>,
) -> Result<(), AppError> {
    let slugs: Vec<String> = batch.iter().map(|p| p.slug.as_str().to_owned()).collect();
    let names: Vec<String> = batch.iter().map(|p| p.name.clone()).collect();
    let descriptions: Vec<String> = batch.iter().map(|p| p.description.clone()).collect();
    let images: Vec<String> = batch
        .iter()
        .map(|p| pictures.get(p.line.as_str()).cloned().unwrap_or_default())
        .collect();
    let featured: Vec<bool> = batch.iter().map(|p| p.featured).collect();
    let ages: Vec<i32> = batch.iter().map(|p| p.age_hours).collect();
    let attributes: Vec<serde_json::Value> = batch.iter().map(|p| p.attributes.clone()).collect();
    let ids = sqlx::query!(
        r#"INSERT INTO products (slug, name, description, category_id, image_url, featured, created_at,
                                attributes)
           SELECT t.slug, t.name, t.description, $4, t.image, t.featured, now() - make_interval(hours => t.age),
                  t.attributes
           FROM UNNEST($1::text[], $2::text[], $3::text[], $5::text[], $6::bool[], $7::int4[],
                       $8::jsonb[])
                AS t(slug, name, description, image, featured, age, attributes)
           ON CONFLICT (slug) DO UPDATE
             SET name = EXCLUDED.name, description = EXCLUDED.description,
                 category_id = EXCLUDED.category_id, image_url = EXCLUDED.image_url,
                 featured = EXCLUDED.featured, attributes = EXCLUDED.attributes
           RETURNING id, slug"#,
        &slugs,
        &names,
        &descriptions,
        category_id,
        &images,
        &featured,
        &ages,
        &attributes,
    )
    .fetch_all(&mut *tx)
    .await?;
    let id_of: HashMap<String, i64> = ids.into_iter().map(|r| (r.slug, r.id)).collect();

    // Each product's picture is the first image of its gallery: a 480 × 480 drawing.
    let (mut gallery_ids, mut urls, mut alts) = (Vec::new(), Vec::new(), Vec::new());
    for (p, url) in batch.iter().zip(&images) {
        if let Some(id) = id_of.get(p.slug.as_str()) {
            gallery_ids.push(*id);
            urls.push(url.clone());
            alts.push(format!("Drawing of the {}", p.line_name));
        }
    }
    sqlx::query!(
        "DELETE FROM product_images WHERE product_id = ANY($1) AND position = 0",
        &gallery_ids
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        r#"INSERT INTO product_images (product_id, position, url, thumb_url, alt, width, height)
           SELECT t.id, 0, t.url, t.url, t.alt, 480, 480
             FROM UNNEST($1::int8[], $2::text[], $3::text[]) AS t(id, url, alt)
            WHERE t.url <> ''"#,
        &gallery_ids,
        &urls,
        &alts,
    )
    .execute(&mut *tx)
    .await?;

    let mut product_ids = Vec::new();
    let mut skus = Vec::new();
    let mut names = Vec::new();
    let mut prices = Vec::new();
    let mut stocks = Vec::new();
    let mut positions = Vec::new();
    let mut options = Vec::new();
    let mut optioned = Vec::new();
    for p in batch {
        let product_id = *id_of
            .get(p.slug.as_str())
            .ok_or_else(|| AppError::internal("seed", format!("{} was not written", p.slug)))?;
        for (vi, v) in p.variants.iter().enumerate() {
            product_ids.push(product_id);
            skus.push(v.sku.clone());
            names.push(v.name.to_owned());
            prices.push(v.price);
            stocks.push(v.stock);
            positions.push(vi as i32);
            options.push(match option {
                Some(o) => serde_json::json!({ o: v.name }),
                None => serde_json::json!({}),
            });
        }
        if option.is_some() {
            optioned.push(product_id);
        }
    }
    // One option per product, its values the variants' names in order (Size: S, M, L).
    let values: Vec<String> = batch
        .first()
        .map(|p| p.variants.iter().map(|v| v.name.to_owned()).collect())
        .unwrap_or_default();
    if let Some(option) = option {
        sqlx::query!(
            r#"INSERT INTO product_options (product_id, position, name, option_values)
               SELECT id, 0, $2, $3 FROM UNNEST($1::int8[]) AS t(id)
               ON CONFLICT (product_id, position) DO UPDATE
                 SET name = EXCLUDED.name, option_values = EXCLUDED.option_values"#,
            &optioned,
            option,
            &values,
        )
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query!(
        r#"INSERT INTO variants (product_id, sku, name, price_amount, currency, stock, position, options)
           SELECT t.product_id, t.sku, t.name, t.price, 'USD', t.stock, t.position, t.options
           FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::int8[], $5::int4[], $6::int4[],
                       $7::jsonb[])
                AS t(product_id, sku, name, price, stock, position, options)
           ON CONFLICT (sku) DO UPDATE
             SET product_id = EXCLUDED.product_id, name = EXCLUDED.name,
                 price_amount = EXCLUDED.price_amount, position = EXCLUDED.position,
                 options = EXCLUDED.options"#,
        &product_ids,
        &skus,
        &names,
        &prices,
        &stocks,
        &positions,
        &options,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
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
                let (name, line) = product_name(cat, i);
                assert_eq!(name, line, "the demo store is one product per line");
                assert!(names.insert(name.clone()), "duplicate {name}");
            }
        }
    }

    #[test]
    fn a_hundred_thousand_products_have_unique_slugs_and_valid_skus() {
        let mut slugs = std::collections::HashSet::new();
        let mut lines = std::collections::HashSet::new();
        for cat in &CATEGORIES {
            for i in 0..10_000 {
                let p = plan(cat, i, 0).expect("plan");
                assert!(
                    slugs.insert(p.slug.as_str().to_owned()),
                    "duplicate {}",
                    p.slug
                );
                lines.insert(p.line.as_str().to_owned());
                for v in &p.variants {
                    assert!(types::Sku::parse(&v.sku).is_ok(), "{}", v.sku);
                }
            }
        }
        assert_eq!(lines.len(), 720, "pictures are shared by line");
        let (name, _) = product_name(&CATEGORIES[5], 72 * 11 + 3);
        assert_eq!(name, "Alpine Water Bottle Max 2");
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
