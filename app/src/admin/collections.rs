//! `/admin/collections`: the merchant's curated lists, their server functions and pages.
//! The forms post with or without JavaScript; the product list is one slug per line, in
//! the order the storefront shows them.

use super::pages::{denied, AdminFrame};
use crate::accounts::{last_error, FieldMessage, FormAlert};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use types::taxonomy::AdminCollection;
use types::AppError;

#[cfg(feature = "ssr")]
use crate::ssr::{auth, redirect_plain_form, respond, services};

/// Every collection, as the merchant edits them.
#[server(prefix = "/rpc", endpoint = "admin/collections")]
pub async fn admin_collection_list() -> Result<Vec<AdminCollection>, AppError> {
    let result = async {
        auth::require_admin().await?;
        services()?.catalog.admin_collections().await
    }
    .await;
    respond(result)
}

/// One collection; 404 when there is none.
#[server(prefix = "/rpc", endpoint = "admin/collection")]
pub async fn admin_collection_detail(slug: String) -> Result<AdminCollection, AppError> {
    let result = async {
        auth::require_admin().await?;
        services()?.catalog.admin_collection_or_404(&slug).await
    }
    .await;
    respond(result)
}

/// The product list as typed: one slug per line (commas work too), blanks ignored.
#[cfg(any(feature = "ssr", test))]
fn product_lines(raw: &str) -> Vec<String> {
    raw.split(['\n', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Creates a collection (`original_slug` empty) or edits one; answers the saved one.
#[server(prefix = "/rpc", endpoint = "admin/collections/save")]
pub async fn save_collection(
    original_slug: String,
    name: String,
    slug: String,
    description: String,
    products: String,
) -> Result<AdminCollection, AppError> {
    let result = async {
        let actor = auth::require_admin_actor().await?;
        let catalog = &services()?.catalog;
        let products = product_lines(&products);
        let saved = if original_slug.is_empty() {
            let input = types::taxonomy::CollectionInput {
                name,
                slug: Some(slug),
                description,
                products,
            };
            catalog.create_collection(&actor, &input.parse()?).await?
        } else {
            let patch = types::taxonomy::CollectionPatch {
                name: Some(name),
                slug: Some(slug).filter(|s| !s.trim().is_empty()),
                description: Some(description),
                products: Some(products),
            };
            catalog
                .update_collection(&actor, &original_slug, &patch.parse()?)
                .await?
        };
        redirect_plain_form(&format!("/admin/collections/{}?saved=1", saved.slug));
        Ok(saved)
    }
    .await;
    respond(result)
}

/// Deletes a collection; its products stay.
#[server(prefix = "/rpc", endpoint = "admin/collections/delete")]
pub async fn delete_collection(slug: String) -> Result<(), AppError> {
    let result = async {
        let actor = auth::require_admin_actor().await?;
        services()?.catalog.delete_collection(&actor, &slug).await?;
        redirect_plain_form("/admin/collections?deleted=1");
        Ok(())
    }
    .await;
    respond(result)
}

/// `/admin/collections`: every collection with its size, and a link to make a new one.
#[component]
pub fn AdminCollectionsPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(|| (), |_| admin_collection_list());
    view! {
        <AdminFrame title="Collections">
            {move || {
                query
                    .read()
                    .get("deleted")
                    .map(|_| {
                        view! {
                            <p class="notice" role="status">
                                "Collection deleted."
                            </p>
                        }
                    })
            }} <p>
                <a class="button" href="/admin/collections/new">
                    "New collection"
                </a>
            </p>
            <Suspense fallback=|| {
                view! { <p class="loading">"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => denied(e, "/admin/collections"),
                        Ok(list) if list.is_empty() => {
                            view! { <p class="empty">"No collections yet."</p> }.into_any()
                        }
                        Ok(list) => {
                            view! {
                                <table class="admin-table collections-table">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Collection"</th>
                                            <th scope="col">"Products"</th>
                                            <th scope="col">"Page"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {list
                                            .into_iter()
                                            .map(|c| {
                                                view! {
                                                    <tr data-collection=c.slug.clone()>
                                                        <td>
                                                            <a href=format!(
                                                                "/admin/collections/{}",
                                                                c.slug,
                                                            )>{c.name}</a>
                                                        </td>
                                                        <td>{c.products.len()}</td>
                                                        <td>
                                                            <a href=format!(
                                                                "/collections/{}",
                                                                c.slug,
                                                            )>{format!("/collections/{}", c.slug)}</a>
                                                        </td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
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

/// `/admin/collections/:slug` (or `new`): the collection form, and deleting it.
#[component]
pub fn AdminCollectionPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let data = Resource::new(slug, |slug| async move {
        if slug == "new" {
            // Nothing to load, but the page is the admin's only: the list call checks that.
            admin_collection_list().await.map(|_| None)
        } else {
            admin_collection_detail(slug).await.map(Some)
        }
    });
    view! {
        <Suspense fallback=|| {
            view! { <p class="loading">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                let here = format!(
                    "/admin/collections/{}",
                    params.read_untracked().get("slug").unwrap_or_default(),
                );
                match data.await {
                    Err(e) => denied(e, &here),
                    Ok(collection) => {
                        let saved = query.read_untracked().get("saved").is_some();
                        let title = collection
                            .as_ref()
                            .map_or_else(|| "New collection".to_owned(), |c| c.name.clone());
                        view! {
                            <AdminFrame title>
                                {saved
                                    .then(|| {
                                        view! {
                                            <p class="notice" role="status">
                                                "Saved."
                                            </p>
                                        }
                                    })} <CollectionForm collection=collection.clone() />
                                {collection.map(|c| view! { <DeleteCollectionForm slug=c.slug /> })}
                            </AdminFrame>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// Every message for the product list: the list itself and each line of it.
fn product_messages(error: Option<AppError>) -> Vec<String> {
    let Some(fields) = error.as_ref().and_then(AppError::fields) else {
        return Vec::new();
    };
    fields
        .iter()
        .filter(|(field, _)| field.starts_with("products"))
        .flat_map(|(field, messages)| {
            let line = field
                .strip_prefix("products[")
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|i| i.parse::<usize>().ok());
            messages.iter().map(move |m| match line {
                Some(i) => format!("Line {}: {m}", i + 1),
                None => m.clone(),
            })
        })
        .collect()
}

#[component]
fn CollectionForm(collection: Option<AdminCollection>) -> impl IntoView {
    let save = ServerAction::<SaveCollection>::new();
    let error = last_error(save.value());
    // After hydration the form stays in place: go to the saved collection's own address.
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            navigate(
                &format!("/admin/collections/{}?saved=1", saved.slug),
                Default::default(),
            );
        }
    });
    let original = collection
        .as_ref()
        .map(|c| c.slug.clone())
        .unwrap_or_default();
    let c = collection.unwrap_or(AdminCollection {
        slug: String::new(),
        name: String::new(),
        description: String::new(),
        products: Vec::new(),
    });
    view! {
        <FormAlert error />
        <ActionForm action=save attr:class="collection-form">
            <input type="hidden" name="original_slug" value=original />
            <label for="collection-name">"Name"</label>
            <input id="collection-name" name="name" required maxlength="200" value=c.name />
            <FieldMessage error field="name" />
            <label for="collection-slug">"Slug"</label>
            <input
                id="collection-slug"
                name="slug"
                value=c.slug
                aria-describedby="collection-slug-hint"
            />
            <p class="hint" id="collection-slug-hint">
                "Its address: /collections/<slug>. Left empty, it is made from the name."
            </p>
            <FieldMessage error field="slug" />
            <label for="collection-description">"Description"</label>
            <textarea id="collection-description" name="description" rows="3" maxlength="5000">
                {c.description}
            </textarea>
            <FieldMessage error field="description" />
            <label for="collection-products">"Products"</label>
            <textarea
                id="collection-products"
                name="products"
                rows="8"
                aria-describedby="collection-products-hint"
            >
                {c.products.join("\n")}
            </textarea>
            <p class="hint" id="collection-products-hint">
                "One product slug per line, in the order the page shows them."
            </p>
            {move || {
                let messages = product_messages(error.get());
                (!messages.is_empty())
                    .then(|| {
                        view! {
                            <ul class="field-error" id="products-error">
                                {messages
                                    .into_iter()
                                    .map(|m| view! { <li>{m}</li> })
                                    .collect_view()}
                            </ul>
                        }
                    })
            }}
            <button type="submit">"Save collection"</button>
        </ActionForm>
    }
}

#[component]
fn DeleteCollectionForm(slug: String) -> impl IntoView {
    let delete = ServerAction::<DeleteCollection>::new();
    let error = last_error(delete.value());
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if matches!(delete.value().get(), Some(Ok(()))) {
            navigate("/admin/collections?deleted=1", Default::default());
        }
    });
    view! {
        <FormAlert error />
        <ActionForm action=delete attr:class="delete-form">
            <input type="hidden" name="slug" value=slug />
            <button type="submit" class="danger">
                "Delete collection"
            </button>
        </ActionForm>
    }
}

#[cfg(test)]
mod tests {
    use super::product_lines;

    #[test]
    fn the_product_list_is_one_slug_per_line_in_order() {
        assert_eq!(
            product_lines("b-mug\r\n\n a-cup ,c-pot\n"),
            ["b-mug", "a-cup", "c-pot"]
        );
    }
}
