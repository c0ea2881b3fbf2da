use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(default = i64::MAX)]
    n: i64,
}

fn main() {}
