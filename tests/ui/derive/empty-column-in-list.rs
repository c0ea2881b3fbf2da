use migrator::Model;

#[derive(Model)]
#[model(index = "user_id,, done")]
struct Task {
    user_id: i64,
    done: bool,
}

fn main() {}
