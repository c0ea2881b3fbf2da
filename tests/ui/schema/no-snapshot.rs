// A project with no `migrations/schema.toml` yet. trybuild compiles this
// file in `target/tests/trybuild/migrator`, which `path` is resolved
// against: `../../../..` is this repository.
mod schema {
    migrator::schema!(path = "../../../../tests/ui/schema/no-such-project");
}

fn main() {}
