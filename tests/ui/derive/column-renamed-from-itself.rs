use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(renamed_from = "title")]
    title: String,
}

fn main() {}
