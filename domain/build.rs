//! Rebuilds the crate when a migration is added or edited: `sqlx::migrate!`
//! embeds `../migrations` at compile time, and cargo does not see a new
//! file in that directory on its own.

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
