use migrator::Model;

#[derive(Model)]
#[model(index = "owner_id, user_id")]
struct Task {
    #[model(column = "owner_id")]
    user_id: i64,
}

fn main() {}
