// `0001_create_items.toml` and `0003_score_items.toml`: 0002 is missing.
//
// trybuild compiles this file in a crate of its own, in
// `target/tests/trybuild/migrator`, which is the folder the path is resolved
// against: `../../../..` is this repository.
static MIGRATIONS: migrator::EmbeddedMigrations =
    migrator::embed_migrations!("../../../../tests/ui/embed/gap-in-numbers");

fn main() {
    let _ = MIGRATIONS.len();
}
