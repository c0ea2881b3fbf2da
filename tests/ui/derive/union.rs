use migrator::Model;

#[derive(Model)]
union Bits {
    n: i64,
    f: f64,
}

fn main() {}
