use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(table = "tasks")]
    id: i64,
}

fn main() {}
