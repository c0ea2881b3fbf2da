use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(primary_key, auto_increment, default = 1)]
    id: i64,
}

fn main() {}
