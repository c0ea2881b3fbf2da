use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(auto_increment)]
    id: i64,
}

fn main() {}
