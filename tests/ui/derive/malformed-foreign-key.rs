use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(foreign_key = "users_id")]
    user_id: i64,
}

fn main() {}
