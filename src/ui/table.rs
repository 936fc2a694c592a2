//! Pieces of list pages: sortable column headers and pagination, both plain links carrying the
//! list's state in the query string, so every view has its own URL and works after a reload.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};

/// The current URL's query with some keys replaced (an empty value removes the key).
pub fn query_with(changes: &[(&str, String)]) -> impl Fn() -> String + Clone + Send + Sync + 'static {
    let query = use_query_map();
    let location = use_location();
    let changes: Vec<(String, String)> = changes.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    move || {
        let mut pairs: Vec<(String, String)> = query.with(|q| {
            q.clone().into_iter().map(|(k, v)| (k.to_string(), v)).filter(|(k, _)| !changes.iter().any(|(c, _)| c == k)).collect()
        });
        pairs.extend(changes.iter().filter(|(_, v)| !v.is_empty()).cloned());
        let encoded: Vec<String> = pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        let path = location.pathname.get();
        if encoded.is_empty() { path } else { format!("{path}?{}", encoded.join("&")) }
    }
}

pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A column header that sorts the list by `key`; a second click reverses the order.
#[component]
pub fn SortHeader(#[prop(into)] label: String, key: &'static str, sort: Signal<String>, descending: Signal<bool>) -> impl IntoView {
    let active = move || sort.get() == key;
    let aria_sort = move || {
        if active() {
            Some(if descending.get() { "descending" } else { "ascending" })
        } else {
            None
        }
    };
    let href = {
        let asc = query_with(&[("sort", key.to_owned()), ("dir", String::new()), ("page", String::new())]);
        let desc = query_with(&[("sort", key.to_owned()), ("dir", "desc".to_owned()), ("page", String::new())]);
        move || if active() && !descending.get() { desc() } else { asc() }
    };
    view! {
        <th scope="col" aria-sort=aria_sort>
            <a class="sort-link" href=href>
                {label}
                <span class="sort-mark" aria-hidden="true">
                    {move || if !active() { "↕" } else if descending.get() { "↓" } else { "↑" }}
                </span>
            </a>
        </th>
    }
}

/// "Page 2 of 7 · 160 users" with previous and next links, and the page-size choice.
#[component]
pub fn Pagination(
    page: i64,
    page_size: i64,
    total: i64,
    #[prop(into)] noun: (&'static str, &'static str),
) -> impl IntoView {
    let pages = ((total + page_size - 1) / page_size).max(1);
    let previous = query_with(&[("page", (page - 1).to_string())]);
    let next = query_with(&[("page", (page + 1).to_string())]);
    let sizes = [10, 25, 50, 100]
        .into_iter()
        .map(|size| {
            let href = query_with(&[("size", size.to_string()), ("page", String::new())]);
            let current = (size == page_size).then_some("page");
            view! { <a class="page-size" href=href aria-current=current>{size}</a> }
        })
        .collect_view();
    let noun = if total == 1 { noun.0 } else { noun.1 };
    view! {
        <nav class="pagination" aria-label="Pagination">
            <span>{format!("Page {page} of {pages} · {total} {noun}")}</span>
            <span class="pagination-links">
                {(page > 1).then(|| view! { <a class="btn btn-secondary btn-small" href=previous>"Previous page"</a> })}
                {(page < pages).then(|| view! { <a class="btn btn-secondary btn-small" href=next>"Next page"</a> })}
            </span>
            <span class="page-sizes">"Per page: " {sizes}</span>
        </nav>
    }
}

/// Tabs that are links: each view has its own URL.
#[component]
pub fn LinkTabs(#[prop(into)] label: String, tabs: Vec<(String, String, bool)>) -> impl IntoView {
    view! {
        <nav class="tabs" aria-label=label>
            {tabs
                .into_iter()
                .map(|(text, href, current)| {
                    view! { <a class="tab" href=href aria-current=current.then_some("page")>{text}</a> }
                })
                .collect_view()}
        </nav>
    }
}
