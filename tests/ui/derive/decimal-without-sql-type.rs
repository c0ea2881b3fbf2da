use migrator::Model;

/// A decimal's column type needs its precision and scale, which the Rust
/// type does not carry.
#[derive(Model)]
struct Invoice {
    id: i64,
    total: bigdecimal::BigDecimal,
}

fn main() {}
