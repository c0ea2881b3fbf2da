use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(default = 1e999)]
    ratio: f64,
    #[model(default = 999999999999999999999999999999999999999999)]
    n: i64,
}

fn main() {}
