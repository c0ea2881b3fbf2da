// The fixture's `zoned` table has `timestamptz`, `json` and `uuid`
// columns, whose diesel types differ between the three dialects (its
// migrator.toml names none); each is an error that says how to choose.
mod schema {
    migrator::schema!(path = "../../../../tests/fixtures/diesel_types");
}

fn main() {}
