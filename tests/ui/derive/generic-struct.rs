use migrator::Model;

#[derive(Model)]
struct Task<T> {
    id: i64,
    payload: T,
}

fn main() {}
