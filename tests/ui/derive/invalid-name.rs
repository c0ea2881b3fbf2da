use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(column = "due date")]
    due: i64,
}

fn main() {}
