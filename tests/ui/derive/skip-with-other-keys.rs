use migrator::Model;

#[derive(Model)]
struct Task {
    id: i64,
    #[model(skip, max_length = 20)]
    cache: String,
}

fn main() {}
