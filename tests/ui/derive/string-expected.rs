use migrator::Model;

#[derive(Model)]
#[model(table = tasks)]
struct Task {
    id: i64,
}

fn main() {}
