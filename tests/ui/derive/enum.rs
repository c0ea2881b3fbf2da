use migrator::Model;

#[derive(Model)]
enum Priority {
    Low,
    High,
}

fn main() {}
