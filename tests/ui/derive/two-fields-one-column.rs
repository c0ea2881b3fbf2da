use migrator::Model;

#[derive(Model)]
struct Task {
    title: String,
    #[model(column = "title")]
    heading: String,
}

fn main() {}
