//! `server seed`: an idempotent, deterministic demo catalog with generated images: ten
//! categories, two of them with subcategories, and a two-picture gallery per product.

mod data;

use crate::media::MediaStore;
use data::{product_svg, CategorySpec, View, ADJECTIVES, CATEGORIES, MODELS};
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;
use types::{AppError, Slug};

/// How much to seed. The default is the full demo store: 10 top-level categories of 24
/// products each, some of them held by the category's subcategories.
#[derive(Clone, Debug)]
pub struct SeedOptions {
    /// How many top-level categories (their subcategories come with them).
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
    /// Categories written, subcategories included.
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
    /// What the line is ("Mug"), which places it in a subcategory.
    noun: &'static str,
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

/// The name of product `i` of a category, its line and the line's noun. The first 72 are
/// the demo store's "{adjective} {noun}" lines; a larger catalog adds models of each line
/// ("Alpine Tent Pro 3").
fn product_name(cat: &CategorySpec, i: usize) -> (String, String, &'static str) {
    let lines = ADJECTIVES.len() * cat.nouns.len();
    let line_no = i % lines;
    let noun = cat.nouns[(line_no + line_no / ADJECTIVES.len()) % cat.nouns.len()];
    let line = format!("{} {noun}", ADJECTIVES[line_no % ADJECTIVES.len()]);
    let series = i / lines;
    let name = if series == 0 {
        line.clone()
    } else {
        let model = MODELS[(series - 1) % MODELS.len()];
        format!("{line} {model} {}", (series - 1) / MODELS.len() + 1)
    };
    (name, line, noun)
}

fn plan(cat: &CategorySpec, i: usize, age_hours: i32) -> Result<PlannedProduct, AppError> {
    let (name, line_name, noun) = product_name(cat, i);
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
        noun,
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
/// updates names, prices, places in the tree and images in place, and never touches stock
/// that a live store has since changed. Products of one line share its two pictures, so a
/// large catalog stores at most 144 pictures per category.
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
    let mut pictures: HashMap<String, Pictures> = HashMap::new();
    let mut tx = db.begin().await?;

    for (ci, cat) in cats.iter().enumerate() {
        let category_id = upsert_category(
            &mut tx,
            cat.slug,
            cat.name,
            &format!("Hand-picked {} for every day.", cat.name.to_lowercase()),
            None,
            ci,
        )
        .await?;
        report.categories += 1;
        // Each noun's products go to the subcategory that names it, the rest stay here.
        let mut home_of: HashMap<&str, i64> = HashMap::new();
        for (si, sub) in cat.subcategories.iter().enumerate() {
            let id = upsert_category(
                &mut tx,
                sub.slug,
                sub.name,
                sub.description,
                Some(category_id),
                si,
            )
            .await?;
            report.categories += 1;
            home_of.extend(sub.nouns.iter().map(|noun| (*noun, id)));
        }

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
                    let hue = rng.below(360);
                    let draw = |view| product_svg(&p.line_name, cat.glyph, hue, view).into_bytes();
                    let front = media
                        .put(&format!("products/{}.svg", p.line), draw(View::Front))
                        .await?;
                    let detail = media
                        .put(
                            &format!("products/{}-detail.svg", p.line),
                            draw(View::Detail),
                        )
                        .await?;
                    pictures.insert(p.line.as_str().to_owned(), Pictures { front, detail });
                }
            }
            let homes: Vec<i64> = batch
                .iter()
                .map(|p| home_of.get(p.noun).copied().unwrap_or(category_id))
                .collect();
            write_batch(&mut tx, &homes, cat.option, &batch, &pictures).await?;
            report.products += batch.len();
            report.variants += batch.iter().map(|p| p.variants.len()).sum::<usize>();
            progress(report.products, total);
        }
    }
    // A sample discount code; left as it is when it exists, so a merchant's edit stays.
    sqlx::query!(
        r#"INSERT INTO promotions (code, kind, value, per_customer_limit)
           VALUES ('WELCOME10', 'percent', 1000, 1) ON CONFLICT (code) DO NOTHING"#
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(report)
}

/// A product line's two drawings, as stored.
struct Pictures {
    front: String,
    detail: String,
}

/// Upserts a category by slug, putting it under `parent` (or at the top) at `position`.
async fn upsert_category(
    tx: &mut PgConnection,
    slug: &str,
    name: &str,
    description: &str,
    parent: Option<i64>,
    position: usize,
) -> Result<i64, AppError> {
    let id = sqlx::query_scalar!(
        r#"INSERT INTO categories (slug, name, description, position, parent_id)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (slug) DO UPDATE
             SET name = EXCLUDED.name, description = EXCLUDED.description,
                 position = EXCLUDED.position, parent_id = EXCLUDED.parent_id
           RETURNING id"#,
        slug,
        name,
        description,
        i32::try_from(position).unwrap_or(i32::MAX),
        parent,
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(id)
}

/// Upserts one batch of products (`homes[i]` is product `i`'s category), then their
/// galleries and variants, each in one statement.
async fn write_batch(
    tx: &mut PgConnection,
    homes: &[i64],
    option: Option<&str>,
    batch: &[PlannedProduct],
    pictures: &HashMap<String, Pictures>,
) -> Result<(), AppError> {
    let slugs: Vec<String> = batch.iter().map(|p| p.slug.as_str().to_owned()).collect();
    let names: Vec<String> = batch.iter().map(|p| p.name.clone()).collect();
    let descriptions: Vec<String> = batch.iter().map(|p| p.description.clone()).collect();
    let drawings: Vec<Option<&Pictures>> = batch
        .iter()
        .map(|p| pictures.get(p.line.as_str()))
        .collect();
    let images: Vec<String> = drawings
        .iter()
        .map(|d| d.map(|d| d.front.clone()).unwrap_or_default())
        .collect();
    let featured: Vec<bool> = batch.iter().map(|p| p.featured).collect();
    let ages: Vec<i32> = batch.iter().map(|p| p.age_hours).collect();
    let attributes: Vec<serde_json::Value> = batch.iter().map(|p| p.attributes.clone()).collect();
    let ids = sqlx::query!(
        r#"INSERT INTO products (slug, name, description, category_id, image_url, featured, created_at,
                                attributes)
           SELECT t.slug, t.name, t.description, t.category_id, t.image, t.featured,
                  now() - make_interval(hours => t.age), t.attributes
           FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::bool[],
                       $7::int4[], $8::jsonb[])
                AS t(slug, name, description, category_id, image, featured, age, attributes)
           ON CONFLICT (slug) DO UPDATE
             SET name = EXCLUDED.name, description = EXCLUDED.description,
                 category_id = EXCLUDED.category_id, image_url = EXCLUDED.image_url,
                 featured = EXCLUDED.featured, attributes = EXCLUDED.attributes
           RETURNING id, slug"#,
        &slugs,
        &names,
        &descriptions,
        homes,
        &images,
        &featured,
        &ages,
        &attributes,
    )
    .fetch_all(&mut *tx)
    .await?;
    let id_of: HashMap<String, i64> = ids.into_iter().map(|r| (r.slug, r.id)).collect();

    // Each product's gallery opens with its line's two 480 × 480 drawings: the whole
    // product (the cover) and a close-up. Images a merchant put after them are kept.
    let (mut gallery_ids, mut image_positions, mut urls, mut alts) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (p, drawing) in batch.iter().zip(&drawings) {
        if let (Some(id), Some(d)) = (id_of.get(p.slug.as_str()), drawing) {
            for (position, url, alt) in [
                (0, &d.front, format!("Drawing of the {}", p.line_name)),
                (
                    1,
                    &d.detail,
                    format!("Close-up drawing of the {}", p.line_name),
                ),
            ] {
                gallery_ids.push(*id);
                image_positions.push(position);
                urls.push(url.clone());
                alts.push(alt);
            }
        }
    }
    sqlx::query!(
        "DELETE FROM product_images WHERE product_id = ANY($1) AND (position < 2 OR url = ANY($2))",
        &gallery_ids,
        &urls,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        r#"INSERT INTO product_images (product_id, position, url, thumb_url, alt, width, height)
           SELECT t.id, t.position, t.url, t.url, t.alt, 480, 480
             FROM UNNEST($1::int8[], $2::int4[], $3::text[], $4::text[]) AS t(id, position, url, alt)"#,
        &gallery_ids,
        &image_positions,
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
                let (name, line, _) = product_name(cat, i);
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
        let (name, _, _) = product_name(&CATEGORIES[5], 72 * 11 + 3);
        assert_eq!(name, "Alpine Water Bottle Max 2");
    }

    #[test]
    fn every_subcategory_holds_nouns_of_its_own_category_and_no_noun_has_two_homes() {
        let mut nested = 0;
        for cat in &CATEGORIES {
            let mut homed = std::collections::HashSet::new();
            for sub in cat.subcategories {
                assert!(!sub.nouns.is_empty(), "{} holds nothing", sub.slug);
                assert!(Slug::parse(sub.slug).is_ok(), "{}", sub.slug);
                for noun in sub.nouns {
                    assert!(
                        cat.nouns.contains(noun),
                        "{noun} is not a {} noun",
                        cat.slug
                    );
                    assert!(homed.insert(*noun), "{noun} is in two subcategories");
                }
            }
            nested += usize::from(!cat.subcategories.is_empty());
        }
        assert!(nested >= 2, "the demo store shows a nested tree");
    }

    #[test]
    fn the_close_up_is_another_drawing_of_the_same_line() {
        let front = product_svg("Classic Mug", "cup", 10, View::Front);
        let detail = product_svg("Classic Mug", "cup", 10, View::Detail);
        assert_ne!(front, detail);
        assert!(detail.contains("Classic Mug · close-up"));
        assert!(detail.contains("scale("));
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
        let svg = product_svg("Tom & <Jerry>", "star", 10, View::Front);
        assert!(svg.contains("Tom &amp; &lt;Jerry&gt;"));
    }
}
