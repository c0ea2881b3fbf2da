// An `sql_type` diesel has no type for (`tsvector`).
mod schema {
    migrator::schema!(path = "../../../../tests/ui/schema/unknown-sql-type");
}

fn main() {}
