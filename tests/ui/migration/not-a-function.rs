#[migrator::migration]
struct Backfill;

fn main() {}
