//! Options, attributes, filters and facets: the contract's "Additions: merchandising",
//! through the JSON API and the server-rendered pages, on a catalog whose every count is
//! known.

use crate::common::{seed, slugs, spawn_with, TestApp};
use serde_json::{json, Value};
use sqlx::PgPool;

fn usd(amount: i64) -> Value {
    json!({"amount": amount, "currency": "USD"})
}

fn variant(sku: &str, size: &str, color: &str, price: i64, stock: i64) -> Value {
    json!({"sku": sku, "name": format!("{size} {color}"), "price": usd(price), "stock": stock,
           "options": {"Size": size, "Color": color}})
}

/// A `tees` category with four products whose every filter outcome is known:
/// - tee-a, Cotton: S/Red 10.00 ×5, M/Red 12.00 sold out
/// - tee-b, Wool:   S/Blue 20.00 sold out, M/Blue 25.00 ×3
/// - tee-c, Cotton: M/Blue 30.00 ×2
/// - tee-d, Linen:  L/Green 15.00 sold out
async fn tees(app: &TestApp, admin: &str) {
    let (status, body) = app
        .call(
            "POST",
            "/api/admin/categories",
            admin,
            Some(json!({"name": "Tees", "slug": "tees"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let options = json!([{"name": "Size", "values": ["S", "M", "L"]},
                         {"name": "Color", "values": ["Red", "Blue", "Green"]}]);
    let products = [
        (
            "Tee A",
            "Cotton",
            vec![
                variant("TEE-A-S", "S", "Red", 1000, 5),
                variant("TEE-A-M", "M", "Red", 1200, 0),
            ],
        ),
        (
            "Tee B",
            "Wool",
            vec![
                variant("TEE-B-S", "S", "Blue", 2000, 0),
                variant("TEE-B-M", "M", "Blue", 2500, 3),
            ],
        ),
        (
            "Tee C",
            "Cotton",
            vec![variant("TEE-C-M", "M", "Blue", 3000, 2)],
        ),
        (
            "Tee D",
            "Linen",
            vec![variant("TEE-D-L", "L", "Green", 1500, 0)],
        ),
    ];
    for (name, material, variants) in products {
        let body = json!({"name": name, "category": "tees", "options": options,
                          "attributes": {"material": material}, "variants": variants});
        let (status, created) = app
            .call("POST", "/api/admin/products", admin, Some(body))
            .await;
        assert_eq!(status, 201, "{created}");
    }
}

async fn listing(app: &TestApp, query: &str) -> Value {
    let (status, body) = app
        .get_json(&format!("/api/catalog/products?{query}"))
        .await;
    assert_eq!(status, 200, "{query}: {body}");
    body
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn counts(facet: &Value) -> Vec<(String, i64)> {
    facet
        .as_array()
        .expect("facet values")
        .iter()
        .map(|c| {
            (
                c["value"].as_str().expect("value").to_owned(),
                c["count"].as_i64().expect("count"),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, i64)]) -> Vec<(String, i64)> {
    list.iter().map(|(v, n)| ((*v).to_owned(), *n)).collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_product_answers_its_options_attributes_and_each_variants_values(db: PgPool) {
    let app = spawn_with(db, &[("OUTBOX_WORKER", "off")]).await;
    let admin = app.admin("boss@example.com").await;
    tees(&app, &admin).await;
    let (status, tee) = app.get_json("/api/catalog/products/tee-a").await;
    assert_eq!(status, 200, "{tee}");
    assert_eq!(
        tee["options"][0],
        json!({"name": "Size", "values": ["S", "M", "L"]})
    );
    assert_eq!(tee["options"][1]["name"], "Color");
    assert_eq!(tee["attributes"], json!({"material": "Cotton"}));
    assert_eq!(
        tee["variants"][1]["options"],
        json!({"Size": "M", "Color": "Red"})
    );
    let (_, admin_view) = app
        .call("GET", "/api/admin/products/tee-a", &admin, None)
        .await;
    assert_eq!(admin_view["variants"][0]["options"]["Size"], "S");
    assert_eq!(admin_view["attributes"]["material"], "Cotton");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_inconsistent_option_set_is_a_422_naming_each_field_and_writes_nothing(db: PgPool) {
    let app = spawn_with(db, &[("OUTBOX_WORKER", "off")]).await;
    let admin = app.admin("boss@example.com").await;
    tees(&app, &admin).await;
    let bad = json!({"name": "Tee E", "category": "tees",
    "options": [{"name": "Size", "values": ["S", "M"]}, {"name": "Color", "values": ["Red"]}],
    "variants": [
        {"sku": "TEE-E-1", "name": "XL", "price": usd(100), "stock": 1,
         "options": {"Size": "XL", "Color": "Red"}},
        {"sku": "TEE-E-2", "name": "S", "price": usd(100), "stock": 1, "options": {"Size": "S"}},
        {"sku": "TEE-E-3", "name": "M", "price": usd(100), "stock": 1,
         "options": {"Size": "M", "Color": "Red", "Fit": "Slim"}},
        {"sku": "TEE-E-4", "name": "M again", "price": usd(100), "stock": 1,
         "options": {"Size": "M", "Color": "Red", "Fit": "Slim"}}
    ]});
    let (status, body) = app
        .call("POST", "/api/admin/products", &admin, Some(bad))
        .await;
    assert_eq!(status, 422, "{body}");
    for field in [
        "variants[0].options.Size",
        "variants[1].options.Color",
        "variants[2].options.Fit",
    ] {
        assert!(body["error"]["fields"][field].is_array(), "{field}: {body}");
    }
    assert_eq!(app.get_json("/api/catalog/products/tee-e").await.0, 404);

    // Options alone that the stored variants do not fit: 422 by the same rule, nothing kept.
    let (status, body) = app
        .call(
            "PATCH",
            "/api/admin/products/tee-a",
            &admin,
            Some(json!({"options": [{"name": "Size", "values": ["XS"]}]})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["fields"]["variants[0].options.Size"].is_array(),
        "{body}"
    );
    assert!(
        body["error"]["fields"]["variants[0].options.Color"].is_array(),
        "{body}"
    );
    let (_, tee) = app.get_json("/api/catalog/products/tee-a").await;
    assert_eq!(tee["options"][0]["values"], json!(["S", "M", "L"]));

    // Two variants may trade their values in one edit; two may not share them.
    let swap = json!({"variants": [
        {"sku": "TEE-A-S", "name": "M Red", "price": usd(1000), "options": {"Size": "M", "Color": "Red"}},
        {"sku": "TEE-A-M", "name": "S Red", "price": usd(1200), "options": {"Size": "S", "Color": "Red"}}
    ]});
    let (status, body) = app
        .call("PATCH", "/api/admin/products/tee-a", &admin, Some(swap))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["variants"][0]["options"]["Size"], "M");
    let clash = json!({"variants": [
        {"sku": "TEE-A-S", "name": "M Red", "price": usd(1000), "options": {"Size": "M", "Color": "Red"}},
        {"sku": "TEE-A-M", "name": "M Red", "price": usd(1200), "options": {"Size": "M", "Color": "Red"}}
    ]});
    let (status, body) = app
        .call("PATCH", "/api/admin/products/tee-a", &admin, Some(clash))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["fields"]["variants[1].options"].is_array(),
        "{body}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn filters_narrow_the_listing_and_each_facet_counts_over_the_other_filters(db: PgPool) {
    let app = spawn_with(
        db,
        &[("OUTBOX_WORKER", "off"), ("CATALOG_CACHE_TTL_SECS", "0")],
    )
    .await;
    let admin = app.admin("boss@example.com").await;
    tees(&app, &admin).await;

    let all = listing(&app, "category=tees").await;
    assert_eq!(all["total"], 4);
    let f = &all["facets"];
    assert_eq!(
        counts(&f["options"]["Size"]),
        pairs(&[("S", 2), ("M", 3), ("L", 1)])
    );
    assert_eq!(
        counts(&f["options"]["Color"]),
        pairs(&[("Red", 1), ("Blue", 2), ("Green", 1)])
    );
    assert_eq!(
        counts(&f["attributes"]["material"]),
        pairs(&[("Cotton", 2), ("Linen", 1), ("Wool", 1)])
    );
    assert_eq!(f["price"], json!({"min": 1000, "max": 3000}));
    assert_eq!(f["in_stock"], json!({"true": 3, "false": 1}));
    assert_eq!(counts(&f["category"]), pairs(&[("tees", 4)]));

    // Choosing Red still counts Blue, and the other facets narrow to Red's products.
    let red = listing(&app, "category=tees&option.Color=Red").await;
    assert_eq!(slugs(&red), ["tee-a"]);
    assert_eq!(
        counts(&red["facets"]["options"]["Color"]),
        pairs(&[("Red", 1), ("Blue", 2), ("Green", 1)])
    );
    assert_eq!(
        counts(&red["facets"]["options"]["Size"]),
        pairs(&[("S", 1), ("M", 1)])
    );
    assert_eq!(red["facets"]["price"], json!({"min": 1000, "max": 1200}));

    // One variant must match every option: no tee is a Red L, and tee-b's S is Blue.
    assert_eq!(
        listing(&app, "category=tees&option.Color=Red&option.Size=L").await["total"],
        0
    );
    let s_blue = listing(&app, "category=tees&option.Size=S&option.Color=Blue").await;
    assert_eq!(slugs(&s_blue), ["tee-b"]);
    // Repeating a name is OR.
    let either = listing(&app, "category=tees&option.Color=Red&option.Color=Green").await;
    assert_eq!(sorted(slugs(&either)), ["tee-a", "tee-d"]);
    // Stock and options hold for the same variant: tee-a's M is sold out.
    let m_now = listing(&app, "category=tees&option.Size=M&in_stock=true").await;
    assert_eq!(sorted(slugs(&m_now)), ["tee-b", "tee-c"]);
    assert_eq!(m_now["facets"]["in_stock"], json!({"true": 2, "false": 1}));

    // Attributes: OR within a name, AND with the rest; counted without their own filter.
    let cotton = listing(&app, "category=tees&attr.material=Cotton").await;
    assert_eq!(sorted(slugs(&cotton)), ["tee-a", "tee-c"]);
    assert_eq!(
        counts(&cotton["facets"]["attributes"]["material"]),
        pairs(&[("Cotton", 2), ("Linen", 1), ("Wool", 1)])
    );
    let wool_or_linen = listing(&app, "category=tees&attr.material=Wool&attr.material=Linen").await;
    assert_eq!(wool_or_linen["total"], 2);
    assert_eq!(
        listing(&app, "category=tees&attr.material=Cotton&option.Color=Red").await["total"],
        1
    );

    // Prices are inclusive and meet a variant's price.
    let mid = listing(&app, "category=tees&price_min=1200&price_max=2000").await;
    assert_eq!(sorted(slugs(&mid)), ["tee-a", "tee-b", "tee-d"]);
    assert_eq!(mid["facets"]["price"], json!({"min": 1000, "max": 3000}));

    // Search takes the same filters.
    let found = listing(&app, "q=tee&option.Color=Blue").await;
    assert_eq!(sorted(slugs(&found)), ["tee-b", "tee-c"]);
    assert_eq!(counts(&found["facets"]["category"]), pairs(&[("tees", 2)]));

    // An unknown name matches nothing; a malformed value is a 400 naming it.
    assert_eq!(
        listing(&app, "category=tees&attr.brand=Acme").await["total"],
        0
    );
    for (query, field) in [
        ("price_min=abc", "price_min"),
        ("price_min=500&price_max=100", "price_max"),
        ("in_stock=maybe", "in_stock"),
        ("attr.=Red", "attr."),
        ("page=1&page=2", "page"),
    ] {
        let (status, body) = app
            .get_json(&format!("/api/catalog/products?{query}"))
            .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], "validation", "{body}");
        assert!(body["error"]["fields"][field].is_array(), "{query}: {body}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn pages_filter_by_links_and_forms_and_choose_options_without_javascript(db: PgPool) {
    let app = spawn_with(db, &[("OUTBOX_WORKER", "off")]).await;
    let admin = app.admin("boss@example.com").await;
    tees(&app, &admin).await;

    let (status, html) = app
        .get_html("/categories/tees?option.Color=Blue&in_stock=true")
        .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Tee B") && html.contains("Tee C") && !html.contains("Tee A"),
        "{html}"
    );
    // The form keeps the choices, counts each value, and offers to take each one away.
    assert!(
        html.contains(r#"name="option.Color" value="Blue" checked"#),
        "{html}"
    );
    assert!(
        html.contains("Red<span class=\"facet-count\"> (1)"),
        "{html}"
    );
    assert!(html.contains("Remove filter Color: Blue"), "{html}");
    // Every filtered view points search engines at the whole category.
    assert!(
        html.contains(r#"/categories/tees" rel="canonical">"#),
        "{html}"
    );

    // The product page picks the variant the URL's options name, and marks what is not to be had.
    let (status, html) = app
        .get_html("/products/tee-a?option.Size=M&option.Color=Red")
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("TEE-A-M"), "{html}");
    assert!(
        html.contains(r#"name="option.Size" id="option-0-1" value="M" checked"#),
        "{html}"
    );
    assert!(
        html.contains("(sold out)") && html.contains("(unavailable)"),
        "{html}"
    );
    assert!(
        html.contains("<dt>material") && html.contains("<dd>Cotton"),
        "{html}"
    );
    assert!(
        !html.contains(r#"name="variant""#),
        "one chooser only: {html}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_demo_seed_gives_sizes_colours_and_materials(db: PgPool) {
    let app = spawn_with(db, &[("OUTBOX_WORKER", "off")]).await;
    seed(&app.db, &app.media_dir, 3).await;
    let list = listing(&app, "category=apparel").await;
    let first = slugs(&list)[0].clone();
    let (_, tee) = app
        .get_json(&format!("/api/catalog/products/{first}"))
        .await;
    assert_eq!(
        tee["options"],
        json!([{"name": "Size", "values": ["S", "M", "L", "XL"]}])
    );
    assert_eq!(tee["variants"][2]["options"], json!({"Size": "L"}));
    assert!(tee["attributes"]["material"].is_string(), "{tee}");
    let sizes = counts(&list["facets"]["options"]["Size"]);
    assert_eq!(
        sizes.iter().map(|(v, _)| v.as_str()).collect::<Vec<_>>(),
        ["S", "M", "L", "XL"]
    );
    // Seeding again leaves the same options, not a second set.
    seed(&app.db, &app.media_dir, 3).await;
    let (_, again) = app
        .get_json(&format!("/api/catalog/products/{first}"))
        .await;
    assert_eq!(again["options"], tee["options"]);
}

#[sqlx::test(migrations = false)]
async fn the_options_migration_turns_existing_sizes_and_colours_into_options(db: PgPool) {
    let mut before = sqlx::migrate!("../migrations");
    let full = sqlx::migrate!("../migrations");
    before.migrations = before
        .migrations
        .iter()
        .filter(|m| m.version < 20261210000001)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    before
        .run(&db)
        .await
        .expect("the migrations before options");
    sqlx::raw_sql(
        r#"INSERT INTO categories (slug, name) VALUES ('shop', 'Shop');
           INSERT INTO products (slug, name, category_id)
           SELECT s, initcap(s), (SELECT id FROM categories) FROM unnest(ARRAY['shirt','mug','lamp','box']) s;
           INSERT INTO variants (product_id, sku, name, price_amount, position)
           SELECT p.id, v.sku, v.name, 100, v.pos
             FROM (VALUES ('shirt','SH-S','S',0), ('shirt','SH-M','M',1), ('mug','MUG-1','Standard',0),
                          ('lamp','LA-B','Black',0), ('lamp','LA-W','White',1),
                          ('box','BOX-1','Plain',0), ('box','BOX-2','Plain',1)) v(product, sku, name, pos)
             JOIN products p ON p.slug = v.product;"#,
    )
    .execute(&db)
    .await
    .expect("a catalog from before options");
    full.run(&db).await.expect("the options migration");
    let options: Vec<(String, String, Vec<String>)> = sqlx::query_as(
        "SELECT p.slug, o.name, o.option_values FROM product_options o JOIN products p ON p.id = o.product_id ORDER BY p.slug",
    )
    .fetch_all(&db)
    .await
    .expect("options");
    assert_eq!(
        options,
        [
            (
                "lamp".to_owned(),
                "Color".to_owned(),
                vec!["Black".to_owned(), "White".to_owned()]
            ),
            (
                "shirt".to_owned(),
                "Size".to_owned(),
                vec!["S".to_owned(), "M".to_owned()]
            ),
        ]
    );
    let m: Value = sqlx::query_scalar("SELECT options FROM variants WHERE sku = 'SH-M'")
        .fetch_one(&db)
        .await
        .expect("variant");
    assert_eq!(m, json!({"Size": "M"}));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_openapi_document_describes_option_and_attribute_maps_as_maps_of_text(db: PgPool) {
    let app = spawn_with(db, &[("OUTBOX_WORKER", "off")]).await;
    let (status, doc) = app.get_json("/api/openapi.json").await;
    assert_eq!(status, 200);
    let schemas = &doc["components"]["schemas"];
    // A response that breaks its own schema is what a client generator trusts least.
    for (schema, field) in [
        ("Variant", "options"),
        ("CartItem", "options"),
        ("AdminVariant", "options"),
        ("AdminProduct", "attributes"),
    ] {
        let map = &schemas[schema]["properties"][field];
        assert_eq!(
            map["additionalProperties"]["type"], "string",
            "{schema}.{field}: {map}"
        );
    }
}
