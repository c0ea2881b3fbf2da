// The functions exist but are not migration steps (and are not marked
// `#[migration]`, which would have said so at their definition).
//
// trybuild compiles this file in a crate of its own, in
// `target/tests/trybuild/migrator`, which is the folder the path is resolved
// against: `../../../..` is this repository.
static MIGRATIONS: migrator::EmbeddedMigrations =
    migrator::embed_migrations!("../../../../tests/fixtures/migrations");

mod steps {
    pub fn score_items(_conn: &mut i32) {}

    pub fn unscore_items(
        _ctx: &mut migrator::RustStepContext<'_>,
    ) -> Result<(), std::io::Error> {
        Ok(())
    }
}

fn main() {
    let _ = MIGRATIONS.len();
}
