use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(default = 40000)]
    rank: i16,
}

fn main() {}
