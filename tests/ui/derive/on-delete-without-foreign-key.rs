use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(on_delete = "cascade")]
    user_id: i64,
}

fn main() {}
