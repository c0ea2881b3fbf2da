use migrator::Model;

#[derive(Model)]
#[model(table = "tasks", renamed_from = "tasks")]
struct Task {
    id: i64,
}

fn main() {}
