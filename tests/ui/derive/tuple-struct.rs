use migrator::Model;

#[derive(Model)]
struct Task(i64, String);

fn main() {}
