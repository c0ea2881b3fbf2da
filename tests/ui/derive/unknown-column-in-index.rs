use migrator::Model;

#[derive(Model)]
#[model(index = "user_id, created")]
struct Task {
    user_id: i64,
    created_at: i64,
}

fn main() {}
