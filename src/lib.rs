//! Roster: one crate compiled twice. With `ssr` it is the axum server and CLI; with `hydrate`
//! it is the WebAssembly that takes over the server-rendered pages in the browser. Feature
//! folders (`auth`, `outbox`, `home`, ...) hold their shared types, server functions, server-only
//! queries and components side by side.
#![recursion_limit = "256"]

pub mod app;
pub mod audit;
pub mod auth;
pub mod companies;
pub mod customer_groups;
pub mod customer_users;
pub mod customer_types;
pub mod customers;
pub mod error;
pub mod home;
pub mod outbox;
pub mod permissions;
pub mod portal;
pub mod roles;
pub mod settings;
pub mod ui;
pub mod users;
pub mod validation;

#[cfg(feature = "ssr")]
pub mod server;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Lets tests (and styles) know the page is interactive beyond its plain forms.
    if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
