use migrator::Model;

#[derive(Model)]
struct Task {
    id: i64,
    tags: std::collections::HashSet<String>,
}

fn main() {}
