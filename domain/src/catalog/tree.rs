//! The category tree, loaded whole (a shop has tens or hundreds of categories, not
//! millions) and cached: listings take a category's subtree from it, pages its
//! breadcrumb chain, and the category list its counts, which include the subtree's.

use sqlx::PgPool;
use std::collections::HashMap;
use types::{AppError, CategorySummary};

#[derive(Clone, Debug)]
struct Node {
    id: i64,
    slug: String,
    name: String,
    parent: Option<i64>,
    /// Listed products in this category itself.
    listed: i64,
}

/// Every category in display order, with its parent: depth first, each category followed
/// by those below it, siblings by position, then name.
#[derive(Clone, Debug, Default)]
pub(super) struct CategoryTree {
    nodes: Vec<Node>,
    by_id: HashMap<i64, usize>,
}

impl CategoryTree {
    /// Reads every category with its own listed count.
    pub(super) async fn load(db: &PgPool) -> Result<CategoryTree, AppError> {
        let rows = sqlx::query!(
            r#"SELECT c.id, c.slug, c.name, c.parent_id, coalesce(lc.listed, 0) AS "listed!"
               FROM categories c
               LEFT JOIN listing_counts lc ON lc.category_id = c.id
               ORDER BY c.position, c.name"#
        )
        .fetch_all(db)
        .await?;
        Ok(Self::from_nodes(
            rows.into_iter()
                .map(|r| Node {
                    id: r.id,
                    slug: r.slug,
                    name: r.name,
                    parent: r.parent_id,
                    listed: r.listed,
                })
                .collect(),
        ))
    }

    /// The tree of `nodes`, given in sibling order (position, then name).
    fn from_nodes(nodes: Vec<Node>) -> Self {
        let known: std::collections::HashSet<i64> = nodes.iter().map(|n| n.id).collect();
        let mut children: HashMap<Option<i64>, Vec<usize>> = HashMap::new();
        for (i, n) in nodes.iter().enumerate() {
            let parent = n.parent.filter(|p| known.contains(p));
            children.entry(parent).or_default().push(i);
        }
        let mut order = Vec::with_capacity(nodes.len());
        let mut seen = vec![false; nodes.len()];
        let mut stack: Vec<usize> = children
            .get(&None)
            .into_iter()
            .flatten()
            .rev()
            .copied()
            .collect();
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            order.push(i);
            let below = children.get(&Some(nodes[i].id)).into_iter().flatten();
            stack.extend(below.rev().copied());
        }
        // A loop no root reaches (the domain refuses them) still lists its categories, last.
        order.extend((0..nodes.len()).filter(|i| !seen[*i]));
        let mut slots: Vec<Option<Node>> = nodes.into_iter().map(Some).collect();
        let nodes: Vec<Node> = order.into_iter().filter_map(|i| slots[i].take()).collect();
        let by_id = nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
        CategoryTree { nodes, by_id }
    }

    fn find(&self, slug: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.slug == slug)
    }

    /// The ids of `slug` and of every category below it; empty when there is no such one.
    pub(super) fn subtree(&self, slug: &str) -> Vec<i64> {
        let Some(root) = self.find(slug) else {
            return Vec::new();
        };
        let mut out = vec![root.id];
        let mut i = 0;
        // Breadth first; the domain never lets a cycle in, and `contains` would stop one.
        while let Some(&id) = out.get(i) {
            for n in &self.nodes {
                if n.parent == Some(id) && !out.contains(&n.id) {
                    out.push(n.id);
                }
            }
            i += 1;
        }
        out
    }

    /// (slug, name) from the top category down to `slug`; empty when there is none.
    pub(super) fn chain(&self, slug: &str) -> Vec<(String, String)> {
        let mut chain = Vec::new();
        let mut next = self.find(slug);
        while let Some(n) = next {
            if chain.len() > self.nodes.len() {
                break;
            }
            chain.push((n.slug.clone(), n.name.clone()));
            next = n
                .parent
                .and_then(|p| self.by_id.get(&p))
                .map(|&i| &self.nodes[i]);
        }
        chain.reverse();
        chain
    }

    /// The public category list: each with its parent and the listed products of its subtree.
    pub(super) fn summaries(&self) -> Vec<CategorySummary> {
        self.nodes
            .iter()
            .map(|n| CategorySummary {
                slug: n.slug.clone(),
                name: n.name.clone(),
                product_count: self
                    .subtree(&n.slug)
                    .iter()
                    .filter_map(|id| self.by_id.get(id))
                    .map(|&i| self.nodes[i].listed)
                    .sum(),
                parent: n
                    .parent
                    .and_then(|p| self.by_id.get(&p))
                    .map(|&i| self.nodes[i].slug.clone()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: i64, slug: &str, parent: Option<i64>, listed: i64) -> Node {
        Node {
            id,
            slug: slug.into(),
            name: slug.to_uppercase(),
            parent,
            listed,
        }
    }

    fn tree() -> CategoryTree {
        CategoryTree::from_nodes(vec![
            node(1, "apparel", None, 2),
            node(2, "shirts", Some(1), 3),
            node(3, "tees", Some(2), 4),
            node(4, "home", None, 5),
        ])
    }

    #[test]
    fn a_subtree_holds_the_category_and_everything_below_it() {
        let t = tree();
        assert_eq!(t.subtree("apparel"), [1, 2, 3]);
        assert_eq!(t.subtree("shirts"), [2, 3]);
        assert_eq!(t.subtree("home"), [4]);
        assert!(t.subtree("nope").is_empty());
    }

    #[test]
    fn categories_are_listed_depth_first_with_siblings_in_their_order() {
        let t = CategoryTree::from_nodes(vec![
            node(1, "apparel", None, 0),
            node(5, "audio", Some(4), 0),
            node(2, "footwear", None, 0),
            node(6, "cables", Some(4), 0),
            node(4, "electronics", None, 0),
            node(7, "headphones", Some(5), 0),
        ]);
        let slugs: Vec<_> = t.summaries().into_iter().map(|c| c.slug).collect();
        assert_eq!(
            slugs,
            [
                "apparel",
                "footwear",
                "electronics",
                "audio",
                "headphones",
                "cables"
            ]
        );
    }

    #[test]
    fn the_chain_runs_from_the_top_down() {
        let slugs: Vec<_> = tree().chain("tees").into_iter().map(|(s, _)| s).collect();
        assert_eq!(slugs, ["apparel", "shirts", "tees"]);
    }

    #[test]
    fn counts_include_the_subtree_and_parents_are_named() {
        let s = tree().summaries();
        assert_eq!(s[0].product_count, 9);
        assert_eq!(s[1].product_count, 7);
        assert_eq!(s[1].parent.as_deref(), Some("apparel"));
        assert_eq!(s[3].parent, None);
    }
}
