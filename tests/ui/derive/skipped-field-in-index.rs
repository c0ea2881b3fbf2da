use migrator::Model;

#[derive(Model)]
#[model(index = "id, cache")]
struct Task {
    id: i64,
    #[model(skip)]
    cache: String,
}

fn main() {}
