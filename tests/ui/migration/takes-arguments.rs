use migrator::{RustStepContext, RustStepResult};

#[migrator::migration(reverse = "unbackfill")]
fn backfill(_ctx: &mut RustStepContext<'_>) -> RustStepResult {
    Ok(())
}

fn main() {}
