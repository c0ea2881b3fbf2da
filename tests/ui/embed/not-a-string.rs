// The folder must be a string literal.
static MIGRATIONS: migrator::EmbeddedMigrations = migrator::embed_migrations!(migrations);

fn main() {
    // The fallback keeps the type: using the static adds no error.
    let _ = MIGRATIONS.len();
}
