use migrator::Model;

#[derive(Model)]
struct Task {
    id: u64,
}

fn main() {}
