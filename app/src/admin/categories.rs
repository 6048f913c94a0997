//! `/admin/categories`: the category tree, its server functions and pages. The forms
//! post with or without JavaScript; a loop, a taken slug or a non-empty delete comes
//! back as the server's own message.

use super::pages::{denied, AdminFrame};
use crate::accounts::{last_error, FieldMessage, FormAlert};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use types::taxonomy::AdminCategory;
use types::AppError;

#[cfg(feature = "ssr")]
use crate::ssr::{auth, redirect_plain_form, respond, services};

/// Every category, parents before their children.
#[server(prefix = "/rpc", endpoint = "admin/categories/tree")]
pub async fn admin_category_list() -> Result<Vec<AdminCategory>, AppError> {
    let result = async {
        auth::require_admin().await?;
        services()?.catalog.admin_categories().await
    }
    .await;
    respond(result)
}

/// Creates a category (`original_slug` empty) or edits one; answers the saved one.
#[server(prefix = "/rpc", endpoint = "admin/categories/save")]
pub async fn save_category(
    original_slug: String,
    name: String,
    slug: String,
    parent: String,
    description: String,
    position: String,
) -> Result<AdminCategory, AppError> {
    let result = async {
        let actor = auth::require_admin_actor().await?;
        let catalog = &services()?.catalog;
        let position = match position.trim() {
            "" => None,
            p => Some(
                p.parse::<i32>()
                    .map_err(|_| AppError::invalid_field("position", "must be a whole number"))?,
            ),
        };
        let parent = Some(parent).filter(|p| !p.trim().is_empty());
        let saved = if original_slug.is_empty() {
            let input = types::taxonomy::CategoryInput {
                name,
                slug: Some(slug),
                parent,
                description,
                position,
            };
            catalog.create_category(&actor, &input.parse()?).await?
        } else {
            let patch = types::taxonomy::CategoryPatch {
                name: Some(name),
                slug: Some(slug).filter(|s| !s.trim().is_empty()),
                parent: Some(parent),
                description: Some(description),
                position,
            };
            catalog
                .update_category(&actor, &original_slug, &patch.parse()?)
                .await?
        };
        redirect_plain_form(&format!("/admin/categories/{}?saved=1", saved.slug));
        Ok(saved)
    }
    .await;
    respond(result)
}

/// Deletes an empty category.
#[server(prefix = "/rpc", endpoint = "admin/categories/delete")]
pub async fn delete_category(slug: String) -> Result<(), AppError> {
    let result = async {
        let actor = auth::require_admin_actor().await?;
        services()?.catalog.delete_category(&actor, &slug).await?;
        redirect_plain_form("/admin/categories?deleted=1");
        Ok(())
    }
    .await;
    respond(result)
}

/// How deep a category sits, from the list's parent links (the list has parents first).
fn depth(list: &[AdminCategory], c: &AdminCategory) -> usize {
    let mut depth = 0;
    let mut parent = c.parent.as_deref();
    while let Some(p) = parent {
        depth += 1;
        if depth > list.len() {
            break;
        }
        parent = list
            .iter()
            .find(|x| x.slug == p)
            .and_then(|x| x.parent.as_deref());
    }
    depth
}

/// `/admin/categories`: the tree, indented, with a link to make a new category.
#[component]
pub fn AdminCategoriesPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(|| (), |_| admin_category_list());
    view! {
        <AdminFrame title="Categories">
            {move || {
                query
                    .read()
                    .get("deleted")
                    .map(|_| {
                        view! {
                            <p class="notice" role="status">
                                "Category deleted."
                            </p>
                        }
                    })
            }} <p>
                <a class="button" href="/admin/categories/new">
                    "New category"
                </a>
            </p>
            <Suspense fallback=|| {
                view! { <p class="loading">"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => denied(e, "/admin/categories"),
                        Ok(list) => {
                            let rows = list
                                .iter()
                                .map(|c| {
                                    let indent = "— ".repeat(depth(&list, c));
                                    view! {
                                        <tr data-category=c.slug.clone()>
                                            <td>
                                                {indent}
                                                <a href=format!(
                                                    "/admin/categories/{}",
                                                    c.slug,
                                                )>{c.name.clone()}</a>
                                            </td>
                                            <td>{c.slug.clone()}</td>
                                            <td>{c.position}</td>
                                        </tr>
                                    }
                                })
                                .collect_view();
                            view! {
                                <table class="admin-table categories-table">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Category"</th>
                                            <th scope="col">"Slug"</th>
                                            <th scope="col">"Position"</th>
                                        </tr>
                                    </thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </AdminFrame>
    }
}

/// `/admin/categories/:slug` (or `new`): the category form, and deleting it.
#[component]
pub fn AdminCategoryPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    // The whole tree: the parent menu needs it, and it holds the category being edited.
    let data = Resource::new(slug, |slug| async move {
        admin_category_list().await.map(|list| {
            let current = list
                .iter()
                .find(|c| c.slug == slug && slug != "new")
                .cloned();
            (list, current)
        })
    });
    view! {
        <Suspense fallback=|| {
            view! { <p class="loading">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                let here = format!(
                    "/admin/categories/{}",
                    params.read_untracked().get("slug").unwrap_or_default(),
                );
                match data.await {
                    Err(e) => denied(e, &here),
                    Ok((_, None)) if !here.ends_with("/new") => {
                        view! { <crate::layout::ErrorView error=AppError::not_found("category") /> }
                            .into_any()
                    }
                    Ok((list, category)) => {
                        let saved = query.read_untracked().get("saved").is_some();
                        let title = category
                            .as_ref()
                            .map_or_else(|| "New category".to_owned(), |c| c.name.clone());
                        view! {
                            <AdminFrame title>
                                {saved
                                    .then(|| {
                                        view! {
                                            <p class="notice" role="status">
                                                "Saved."
                                            </p>
                                        }
                                    })} <CategoryForm category=category.clone() tree=list />
                                {category.map(|c| view! { <DeleteCategoryForm slug=c.slug /> })}
                            </AdminFrame>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn CategoryForm(category: Option<AdminCategory>, tree: Vec<AdminCategory>) -> impl IntoView {
    let save = ServerAction::<SaveCategory>::new();
    let error = last_error(save.value());
    // After hydration the form stays in place: go to the saved category's own address.
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            navigate(
                &format!("/admin/categories/{}?saved=1", saved.slug),
                Default::default(),
            );
        }
    });
    let original = category
        .as_ref()
        .map(|c| c.slug.clone())
        .unwrap_or_default();
    let c = category.unwrap_or(AdminCategory {
        slug: String::new(),
        name: String::new(),
        description: String::new(),
        parent: None,
        position: 0,
    });
    let parent = c.parent.clone().unwrap_or_default();
    let options = tree
        .iter()
        .filter(|t| t.slug != original)
        .map(|t| {
            let indent = "— ".repeat(depth(&tree, t));
            view! {
                <option value=t.slug.clone() selected=t.slug == parent>
                    {indent}
                    {t.name.clone()}
                </option>
            }
        })
        .collect_view();
    view! {
        <FormAlert error />
        <ActionForm action=save attr:class="category-form">
            <input type="hidden" name="original_slug" value=original />
            <label for="category-name">"Name"</label>
            <input id="category-name" name="name" required maxlength="200" value=c.name />
            <FieldMessage error field="name" />
            <label for="category-slug">"Slug"</label>
            <input
                id="category-slug"
                name="slug"
                value=c.slug
                aria-describedby="category-slug-hint"
            />
            <p class="hint" id="category-slug-hint">
                "Its address: /categories/<slug>. Left empty, it is made from the name."
            </p>
            <FieldMessage error field="slug" />
            <label for="category-parent">"Parent"</label>
            <select id="category-parent" name="parent">
                <option value="" selected=parent.is_empty()>
                    "None (top level)"
                </option>
                {options}
            </select>
            <FieldMessage error field="parent" />
            <label for="category-description">"Description"</label>
            <textarea id="category-description" name="description" rows="3" maxlength="5000">
                {c.description}
            </textarea>
            <FieldMessage error field="description" />
            <label for="category-position">"Position"</label>
            <input
                id="category-position"
                name="position"
                inputmode="numeric"
                value=c.position.to_string()
                aria-describedby="category-position-hint"
            />
            <p class="hint" id="category-position-hint">
                "Lower comes first among its siblings."
            </p>
            <FieldMessage error field="position" />
            <button type="submit">"Save category"</button>
        </ActionForm>
    }
}

#[component]
fn DeleteCategoryForm(slug: String) -> impl IntoView {
    let delete = ServerAction::<DeleteCategory>::new();
    let error = last_error(delete.value());
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if matches!(delete.value().get(), Some(Ok(()))) {
            navigate("/admin/categories?deleted=1", Default::default());
        }
    });
    view! {
        <FormAlert error />
        <ActionForm action=delete attr:class="delete-form">
            <input type="hidden" name="slug" value=slug />
            <button type="submit" class="danger">
                "Delete category"
            </button>
        </ActionForm>
    }
}
