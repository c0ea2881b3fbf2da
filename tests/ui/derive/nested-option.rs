use migrator::Model;

#[derive(Model)]
struct Task {
    id: i64,
    due: Option<Option<String>>,
}

fn main() {}
