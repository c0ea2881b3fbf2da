use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(index(user_id))]
    user_id: i64,
}

fn main() {}
