use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(primary_key = true)]
    id: i64,
}

fn main() {}
