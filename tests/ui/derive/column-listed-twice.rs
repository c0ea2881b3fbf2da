use migrator::Model;

#[derive(Model)]
#[model(unique = "user_id, title, user_id")]
struct Task {
    user_id: i64,
    title: String,
}

fn main() {}
