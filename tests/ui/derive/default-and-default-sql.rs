use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(default = "low", default_sql = "'low'")]
    priority: String,
}

fn main() {}
