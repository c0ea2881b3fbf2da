// A folder that does not exist, relative to the crate's Cargo.toml.
static MIGRATIONS: migrator::EmbeddedMigrations = migrator::embed_migrations!("no/such/migrations");

fn main() {
    let _ = MIGRATIONS.len();
}
