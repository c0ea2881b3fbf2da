use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(primary_key)]
    id: Option<i64>,
}

fn main() {}
