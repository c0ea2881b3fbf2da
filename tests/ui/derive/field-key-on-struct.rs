use migrator::Model;

#[derive(Model)]
#[model(primary_key)]
struct Task {
    id: i64,
}

fn main() {}
