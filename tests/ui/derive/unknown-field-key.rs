use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(primary_key, auto_incremnt)]
    id: i64,
}

fn main() {}
