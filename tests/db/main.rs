//! Database tests: each runs the application against its own fresh PostgreSQL database
//! (`#[sqlx::test]` creates it and applies the migrations).

mod fixture;
mod support;

mod audit;
mod auth;
mod boundary;
mod customer_users;
mod customers;
mod isolation;
mod matrix;
mod outbox;
mod portal;
mod reset;
mod staff;
