// `0001_create_items.toml` has `type = "sql:varchar(50), DROP COLUMN
// secret"`: more than one SQL type, refused before anything is embedded.
// (The path is resolved as in gap-in-numbers.rs.)
static MIGRATIONS: migrator::EmbeddedMigrations =
    migrator::embed_migrations!("../../../../tests/ui/embed/sql-type-injection");

fn main() {
    let _ = MIGRATIONS.len();
}
