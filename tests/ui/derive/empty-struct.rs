use migrator::Model;

#[derive(Model)]
struct Task {}

fn main() {}
