use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(foreign_key = "users.id", on_delete = "delete")]
    user_id: i64,
}

fn main() {}
