#![allow(dead_code)]
//! Turns the bundled common-password list into a sorted, lower-cased Rust slice holding only the
//! entries long enough to pass the length rule: shorter ones are refused before the list is read.

use std::{env, fs, path::Path};

include!("src/validation/password_limits.rs");

fn main() {
    let source = "src/validation/common-passwords.txt";
    println!("cargo:rerun-if-changed={source}");
    println!("cargo:rerun-if-changed=src/validation/password_limits.rs");
    // `sqlx::migrate!` embeds the migrations; a build script turns off cargo's own change
    // tracking, so a new migration file would otherwise not reach an incremental build.
    println!("cargo:rerun-if-changed=migrations");
    let text = fs::read_to_string(source).expect("read the common-password list");
    let mut long: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|line| line.chars().count() >= PASSWORD_MIN_CHARS)
        .map(str::to_lowercase)
        .collect();
    long.sort();
    long.dedup();
    let body: String = long.iter().map(|p| format!("    {p:?},\n")).collect();
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("common_passwords.rs");
    fs::write(out, format!("pub static COMMON_PASSWORDS: &[&str] = &[\n{body}];\n"))
        .expect("write the generated list");
}
