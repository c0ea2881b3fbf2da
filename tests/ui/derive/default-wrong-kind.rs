use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(default = "yes")]
    done: bool,
}

fn main() {}
