use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(max_length = 20)]
    count: i32,
}

fn main() {}
