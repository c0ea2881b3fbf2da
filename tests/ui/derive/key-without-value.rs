use migrator::Model;

#[derive(Model)]
#[model(table)]
struct Task {
    id: i64,
}

fn main() {}
