"""EXPLAIN ANALYZE of the listing statements, taken from domain/src/catalog/listing.rs and
facets.rs so the plans shown are of the SQL the server runs. Each is prepared and executed six times first,
so the plan is the one Postgres settles on for a long-lived connection."""
import os
import re
import subprocess
import sys

url = sys.argv[1]
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
src = open(os.path.join(root, "domain/src/catalog/listing.rs")).read()
browse, correct, search = re.findall(r'sqlx::query(?:_scalar)?!\(\s*r#"(.*?)"#', src, re.S)[:3]
facets_src = open(os.path.join(root, "domain/src/catalog/facets.rs")).read()
(facets,) = re.findall(r'sqlx::query!\(\s*r#"(.*?)"#', facets_src, re.S)[:1]


def plain(sql):
    # sqlx's column annotations (`AS "total!"`) are not SQL names Postgres would keep.
    return re.sub(r'AS "([a-z_]+)[!?]?(?:: [^"]*)?"', r"AS \1", sql)


# No attribute filter, no variant filter, no price range, no stock filter, no options.
NO_FILTERS = "'{}', false, NULL, NULL, false, '{}'"

# A leaf category goes in by its id (`:outdoor`), a category with subcategories as the
# array of its subtree (`:subtree`, here two whole categories standing in for one).
CASES = [
    ("browse: whole catalog, newest", "browse", "(NULL, false, 'newest', 24, 0, NULL)"),
    ("browse: a category, newest (the category page)", "browse", "(:outdoor, false, 'newest', 24, 0, NULL)"),
    ("browse: a category, by price", "browse", "(:outdoor, false, 'price_asc', 24, 0, NULL)"),
    ("browse: a category with subcategories, newest", "browse", "(NULL, false, 'newest', 24, 0, :'subtree')"),
    ("browse: whole catalog, by name, page 10", "browse", "(NULL, false, 'name', 24, 216, NULL)"),
    ("browse: featured (the home page)", "browse", "(NULL, true, 'newest', 8, 0, NULL)"),
    ("search: words", "search", f"(NULL, 'alpine tent', 'relevance', 24, 0, false, NULL, NULL, {NO_FILTERS})"),
    ("search, typo fallback: correcting the words", "correct", "('alpine tnet')"),
    ("search, typo fallback: the corrected words or the compound", "search",
     f"(NULL, 'alpine tent', 'relevance', 24, 0, false, 'alpinetnet', NULL, {NO_FILTERS})"),
    ("filtered browse: a category by size, price and stock", "search",
     "(:apparel, NULL, 'newest', 24, 0, false, NULL, NULL, '{}', true, NULL, 5000, true, '{\"Size\": [\"M\"]}')"),
    ("facets: whole catalog", "facets", "(NULL, NULL, NULL, NULL, '{}', '{}', NULL, NULL, false, false)"),
    ("facets: a category", "facets", "(:outdoor, NULL, NULL, NULL, '{}', '{}', NULL, NULL, false, false)"),
    ("facets: a category by size, price and stock", "facets",
     "(:apparel, NULL, NULL, NULL, '{}', '{\"Size\": [\"M\"]}', NULL, 5000, true, true)"),
    ("facets: search words", "facets", "(NULL, NULL, 'alpine tent', NULL, '{}', '{}', NULL, NULL, false, false)"),
]
script = [
    "SELECT id AS outdoor FROM categories WHERE slug = 'outdoor' \\gset",
    "SELECT id AS apparel FROM categories WHERE slug = 'apparel' \\gset",
    "SELECT '{' || string_agg(id::text, ',') || '}' AS subtree FROM categories"
    " WHERE slug IN ('outdoor', 'sports') \\gset",
    f"PREPARE browse(int8, bool, text, int8, int8, int8[]) AS {plain(browse)};",
    f"PREPARE correct(text) AS {plain(correct)};",
    f"PREPARE search(int8, text, text, int8, int8, bool, text, int8[], jsonb, bool, int8, int8, bool, jsonb)"
    f" AS {plain(search)};",
    f"PREPARE facets(int8, int8[], text, text, jsonb, jsonb, int8, int8, bool, bool) AS {plain(facets)};",
]
for title, stmt, args in CASES:
    script.append(f"\\echo '## {title}'")
    script += [f"EXECUTE {stmt}{args} \\g /dev/null"] * 6
    script.append(f"EXPLAIN (ANALYZE, BUFFERS, COSTS off) EXECUTE {stmt}{args};")
out = subprocess.run(["psql", url, "-X", "-q"], input="\n".join(script), capture_output=True, text=True, check=True)
print(out.stdout)
