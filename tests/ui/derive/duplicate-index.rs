use migrator::Model;

#[derive(Model)]
#[model(index = "user_id")]
struct Task {
    #[model(index)]
    user_id: i64,
}

fn main() {}
