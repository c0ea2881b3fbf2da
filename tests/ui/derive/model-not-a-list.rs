use migrator::Model;

#[derive(Model)]
struct Task {
    #[model]
    id: i64,
    #[model = "primary_key"]
    title: String,
}

fn main() {}
