use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(max_length = 100)]
    #[model(max_length = 200)]
    title: String,
}

fn main() {}
