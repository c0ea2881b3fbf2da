use migrator::Model;

#[derive(Model)]
#[model(check = "  ")]
struct Task {
    id: i64,
}

fn main() {}
