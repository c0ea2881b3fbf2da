use migrator::{RustStepContext, RustStepResult};

#[migrator::migration]
fn backfill<C>(_ctx: &mut RustStepContext<'_>) -> RustStepResult {
    Ok(())
}

fn main() {}
