use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(default = "abc")]
    data: Vec<u8>,
}

fn main() {}
