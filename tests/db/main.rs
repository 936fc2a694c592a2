//! Database tests: each runs the application against its own fresh PostgreSQL database
//! (`#[sqlx::test]` creates it and applies the migrations).

mod support;

mod auth;
mod boundary;
mod isolation;
mod outbox;
mod reset;
