//! Database tests: each runs the application against its own fresh PostgreSQL database
//! (`#[sqlx::test]` creates it and applies the migrations).

mod fixture;
mod support;

mod audit;
mod auth;
mod billing;
mod cli;
mod authority;
mod boundary;
mod brute_force;
mod customer_users;
mod customers;
mod disclosure;
mod export;
mod import;
mod import_users;
mod instances;
mod isolation;
mod links;
mod matrix;
mod matrix_customers;
mod matrix_portal;
mod outbox;
mod portal;
mod races;
mod rest;
mod reset;
mod review;
mod scope;
mod secrets;
mod staff;
mod upgrade;
mod webhooks;
