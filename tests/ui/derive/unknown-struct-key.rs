use migrator::Model;

#[derive(Model)]
#[model(tabel = "tasks")]
struct Task {
    id: i64,
}

fn main() {}
