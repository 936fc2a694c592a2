//! Pieces of list pages: sortable column headers and pagination, both plain links carrying the
//! list's state in the query string, so every view has its own URL and works after a reload.

use leptos::prelude::*;
use super::Refresh;
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
        let reset = |dir: &str| {
            query_with(&[
                ("sort", key.to_owned()),
                ("dir", dir.to_owned()),
                ("page", String::new()),
                ("after", String::new()),
                ("before", String::new()),
            ])
        };
        let (asc, desc) = (reset(""), reset("desc"));
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

/// The last page a list may be asked for; deeper requests get the last one allowed.
pub const MAX_PAGE: i64 = 10_000;

/// The page sizes every list offers.
pub const PAGE_SIZES: [i64; 4] = [10, 25, 50, 100];

/// `size` if it is one of [`PAGE_SIZES`], else 25.
pub fn page_size_or_default(size: i64) -> i64 {
    if PAGE_SIZES.contains(&size) {
        size
    } else {
        25
    }
}

/// The one pager of every list: where it is ("Page 2 of 7 · 160 users"), links to the first,
/// previous, next and last pages where they exist, and the page-size choice where the list
/// offers it. All plain links, so each page has its own URL.
#[component]
pub fn Pager(
    #[prop(into)] summary: String,
    #[prop(default = None)] first: Option<String>,
    #[prop(default = None)] previous: Option<String>,
    #[prop(default = None)] next: Option<String>,
    #[prop(default = None)] last: Option<String>,
    /// The size shown and each size's link, when the user may choose.
    #[prop(default = None)]
    sizes: Option<(i64, Vec<(i64, String)>)>,
) -> impl IntoView {
    let link = |label: &'static str, href: Option<String>| {
        href.map(|href| view! { <a class="btn btn-secondary btn-small" href=href>{label}</a> })
    };
    view! {
        <nav class="pagination" aria-label="Pagination">
            <span>{summary}</span>
            <span class="pagination-links">
                {link("First page", first)}
                {link("Previous page", previous)}
                {link("Next page", next)}
                {link("Last page", last)}
            </span>
            {sizes.map(|(current, sizes)| view! {
                <span class="page-sizes">"Per page: "
                    {sizes.into_iter().map(|(size, href)| view! {
                        <a class="page-size" href=href aria-current=(size == current).then_some("page")>{size}</a>
                    }).collect_view()}
                </span>
            })}
        </nav>
    }
}

/// The pager of a list numbered by page: "Page 2 of 7 · 160 users", previous and next.
#[component]
pub fn Pagination(
    page: i64,
    page_size: i64,
    total: i64,
    #[prop(into)] noun: (&'static str, &'static str),
    /// Whether the user chooses the page size.
    #[prop(optional)]
    sizes: bool,
) -> impl IntoView {
    let pages = ((total + page_size - 1) / page_size).max(1);
    let previous = (page > 1).then(|| query_with(&[("page", (page - 1).to_string())])());
    let next = (page < pages).then(|| query_with(&[("page", (page + 1).to_string())])());
    let sizes = sizes.then(|| {
        let links = PAGE_SIZES
            .into_iter()
            .map(|size| (size, query_with(&[("size", size.to_string()), ("page", String::new())])()))
            .collect();
        (page_size, links)
    });
    let noun = if total == 1 { noun.0 } else { noun.1 };
    let summary = format!("Page {page} of {pages} · {total} {noun}");
    view! { <Pager summary previous next sizes/> }
}

/// The pager of a list read by keyset: "Page 2 of 7 · 160 users", the first, previous and next
/// pages by cursor (the users shown first and last here), the page size where offered.
#[component]
pub fn KeysetPagination(
    page: i64,
    page_size: i64,
    total: i64,
    previous: Option<i64>,
    next: Option<i64>,
    #[prop(into)] noun: (&'static str, &'static str),
    #[prop(optional)] sizes: bool,
) -> impl IntoView {
    let pages = ((total + page_size - 1) / page_size).max(1);
    let page = page.clamp(1, pages);
    let at = |key: &str, id: Option<i64>, number: i64| {
        let (after, before) = match key {
            "after" => (id.map(|i| i.to_string()).unwrap_or_default(), String::new()),
            _ => (String::new(), id.map(|i| i.to_string()).unwrap_or_default()),
        };
        let number = if number <= 1 { String::new() } else { number.to_string() };
        query_with(&[("after", after), ("before", before), ("page", number)])()
    };
    let first = previous.map(|_| at("after", None, 1));
    let previous = previous.map(|id| at("before", Some(id), page - 1));
    let next = next.map(|id| at("after", Some(id), page + 1));
    let sizes = sizes.then(|| {
        let links = PAGE_SIZES
            .into_iter()
            .map(|size| (size, query_with(&[("size", size.to_string()), ("page", String::new()), ("after", String::new()), ("before", String::new())])()))
            .collect();
        (page_size, links)
    });
    let noun = if total == 1 { noun.0 } else { noun.1 };
    let summary = format!("Page {page} of {pages} · {total} {noun}");
    view! { <Pager summary first previous next sizes/> }
}

/// Tabs that are links: each view has its own URL.
#[component]
pub fn LinkTabs(#[prop(into)] label: String, tabs: Vec<(String, String, bool)>) -> impl IntoView {
    view! {
        <nav class="tabs" aria-label=label>
            {tabs
                .into_iter()
                .map(|(text, href, current)| {
                    let refresh = Refresh::current();
                    view! {
                        <a class="tab" href=href aria-current=current.then_some("page")
                            on:click=move |_| if current { refresh.bump() }>{text}</a>
                    }
                })
                .collect_view()}
        </nav>
    }
}

/// A link that downloads what the list shows as a CSV file: the list's search, filters and
/// sort (its query without the paging) sent to `path`.
#[component]
pub fn ExportLink(path: &'static str, #[prop(into)] label: String) -> impl IntoView {
    let query = use_query_map();
    let href = move || {
        let pairs: Vec<String> = query.with(|q| {
            q.clone()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .filter(|(k, _)| !matches!(k.as_str(), "page" | "after" | "before" | "last" | "size"))
                .map(|(k, v)| format!("{}={}", encode(&k), encode(&v)))
                .collect()
        });
        if pairs.is_empty() { path.to_owned() } else { format!("{path}?{}", pairs.join("&")) }
    };
    view! { <a class="btn btn-secondary" href=href download="" rel="external">{label}</a> }
}
