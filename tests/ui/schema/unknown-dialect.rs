// A dialect migrator does not know.
mod schema {
    migrator::schema!(dialect = "oracle");
}

fn main() {}
