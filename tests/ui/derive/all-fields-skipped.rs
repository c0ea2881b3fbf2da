use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(skip)]
    cache: Vec<String>,
}

fn main() {}
