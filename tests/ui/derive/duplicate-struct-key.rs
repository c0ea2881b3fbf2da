use migrator::Model;

#[derive(Model)]
#[model(table = "tasks", table = "todos")]
struct Task {
    id: i64,
}

fn main() {}
