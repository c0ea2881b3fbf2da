use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(max_length = 3, default = "medium")]
    priority: String,
}

fn main() {}
