//! The demo catalog's raw material: ten categories (two of them split into subcategories),
//! their nouns, sizes and price ranges, and the pictures drawn for each product line.

pub(super) struct CategorySpec {
    pub(super) slug: &'static str,
    pub(super) name: &'static str,
    pub(super) nouns: [&'static str; 6],
    pub(super) variants: &'static [&'static str],
    /// The option the variants are values of; `None` for a single standard variant.
    pub(super) option: Option<&'static str>,
    /// Price range in whole currency units.
    pub(super) price: (u64, u64),
    pub(super) materials: [&'static str; 3],
    pub(super) glyph: &'static str,
    /// Subcategories, each holding the products of some of the category's nouns; a noun
    /// no subcategory names stays in the category itself.
    pub(super) subcategories: &'static [SubcategorySpec],
}

/// A category below a top-level one, and the nouns whose products it holds.
pub(super) struct SubcategorySpec {
    pub(super) slug: &'static str,
    pub(super) name: &'static str,
    pub(super) description: &'static str,
    pub(super) nouns: &'static [&'static str],
}

pub(super) const CATEGORIES: [CategorySpec; 10] = [
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
        option: Some("Size"),
        price: (18, 140),
        materials: ["organic cotton", "merino wool", "recycled polyester"],
        glyph: "shirt",
        subcategories: &[],
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
        option: Some("Size"),
        price: (35, 190),
        materials: ["full-grain leather", "recycled mesh", "suede"],
        glyph: "shoe",
        subcategories: &[],
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
        option: None,
        price: (9, 120),
        materials: ["stoneware", "cast iron", "oiled oak"],
        glyph: "cup",
        subcategories: &[
            SubcategorySpec {
                slug: "tableware",
                name: "Tableware",
                description: "Mugs, bowls and carafes for the table.",
                nouns: &["Mug", "Salad Bowl", "Carafe"],
            },
            SubcategorySpec {
                slug: "cookware",
                name: "Cookware",
                description: "Pots, pans and boards for the stove and the counter.",
                nouns: &["Teapot", "Skillet", "Cutting Board"],
            },
        ],
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
        option: Some("Color"),
        price: (15, 350),
        materials: [
            "recycled aluminium",
            "matte polycarbonate",
            "anodized steel",
        ],
        glyph: "bolt",
        subcategories: &[
            SubcategorySpec {
                slug: "audio",
                name: "Audio",
                description: "Headphones and speakers.",
                nouns: &["Headphones", "Speaker"],
            },
            SubcategorySpec {
                slug: "computer-accessories",
                name: "Computer Accessories",
                description: "Keyboards, mice, webcams and chargers for the desk.",
                nouns: &["Charger", "Keyboard", "Mouse", "Webcam"],
            },
        ],
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
        option: Some("Format"),
        price: (8, 45),
        materials: [
            "acid-free paper",
            "FSC-certified paper",
            "cloth-bound boards",
        ],
        glyph: "book",
        subcategories: &[],
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
        option: Some("Size"),
        price: (12, 420),
        materials: ["ripstop nylon", "recycled steel", "waxed canvas"],
        glyph: "mountain",
        subcategories: &[],
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
        option: Some("Size"),
        price: (6, 60),
        materials: ["cold-pressed oils", "shea butter", "aloe and oat extract"],
        glyph: "drop",
        subcategories: &[],
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
        option: None,
        price: (7, 80),
        materials: [
            "sustainable beech wood",
            "recycled cardboard",
            "soft organic cotton",
        ],
        glyph: "star",
        subcategories: &[],
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
        option: Some("Edition"),
        price: (10, 210),
        materials: ["natural rubber", "carbon fibre", "recycled foam"],
        glyph: "ball",
        subcategories: &[],
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
        option: Some("Color"),
        price: (5, 95),
        materials: ["recycled paper", "brushed brass", "bamboo"],
        glyph: "pen",
        subcategories: &[],
    },
];

pub(super) const ADJECTIVES: [&str; 12] = [
    "Classic", "Everyday", "Urban", "Alpine", "Coastal", "Heritage", "Minimal", "Vintage",
    "Nordic", "Summit", "Meadow", "Harbor",
];

/// Model names that tell the lines of a large catalog apart: "Alpine Tent Pro 3".
pub(super) const MODELS: [&str; 8] = ["Lite", "Pro", "Max", "Air", "Plus", "One", "Edge", "Core"];

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Which picture of a product line: the whole product, or a close-up of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum View {
    Front,
    Detail,
}

/// A product picture drawn from the name: a colored card with the category's glyph, whole
/// for the front view and enlarged on the opposite hue for the close-up.
pub(super) fn product_svg(name: &str, glyph: &str, hue: u64, view: View) -> String {
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
    let (hue, zoom, caption) = match view {
        View::Front => (hue, "", String::new()),
        // The close-up crops into the glyph: scaled about the card's centre.
        View::Detail => (
            (hue + 180) % 360,
            r#" transform="translate(240 240) scale(1.8) translate(-240 -250)""#,
            " · close-up".to_owned(),
        ),
    };
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 480 480" role="img" aria-label="{name}{caption}"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl({hue},70%,62%)"/><stop offset="1" stop-color="hsl({hue2},65%,42%)"/></linearGradient></defs><rect width="480" height="480" fill="url(#g)"/><g fill="#fff" fill-opacity=".9"{zoom}>{shape}</g><text x="240" y="440" font-family="system-ui,sans-serif" font-size="26" text-anchor="middle" fill="#fff">{name}{caption}</text></svg>"##,
        name = xml_escape(name),
        hue2 = (hue + 40) % 360,
    )
}
