use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(primary_key,, auto_increment)]
    id: i64,
}

fn main() {}
