//! Roster: one crate compiled twice. With `ssr` it is the axum server and CLI; with `hydrate`
//! it is the WebAssembly that takes over the server-rendered pages in the browser. The modules
//! form floors, each importing only the floors below it (README "Layout"): `boot` (server
//! only) on top, then `app`, the feature folders, `services`, the platform (`server`, `ui`) and
//! the ground (`error`, `validation`, `permissions`).
#![recursion_limit = "256"]
// The browser's entry point is `app::hydrate`.

pub mod api_keys;
pub mod app;
pub mod audit;
#[cfg(feature = "ssr")]
pub mod boot;
pub mod auth;
pub mod billing;
pub mod companies;
pub mod customer_groups;
pub mod customer_users;
pub mod customer_types;
pub mod customers;
pub mod error;
pub mod home;
pub mod imports;
pub mod outbox;
pub mod permissions;
pub mod portal;
pub mod rest;
pub mod roles;
pub mod services;
pub mod settings;
pub mod ui;
pub mod users;
pub mod validation;
pub mod webhooks;

#[cfg(feature = "ssr")]
pub mod server;
