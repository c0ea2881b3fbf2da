// A misspelt argument of `migrator::schema!`.
mod schema {
    migrator::schema!(dialekt = "sqlite");
}

fn main() {}
