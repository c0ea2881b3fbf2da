use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(max_length = 0)]
    title: String,
    #[model(max_length = "200")]
    body: String,
}

fn main() {}
