// The fixture's 0002 runs `steps::score_items` (reverse
// `steps::unscore_items`); this crate defines neither. Each is an error on
// the macro call, whose note names the file, the step and the key.
//
// trybuild compiles this file in a crate of its own, in
// `target/tests/trybuild/migrator`, which is the folder the path is resolved
// against: `../../../..` is this repository.
static MIGRATIONS: migrator::EmbeddedMigrations =
    migrator::embed_migrations!("../../../../tests/fixtures/migrations");

fn main() {
    let _ = MIGRATIONS.len();
}
