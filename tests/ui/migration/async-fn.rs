use migrator::{RustStepContext, RustStepResult};

#[migrator::migration]
async fn backfill(_ctx: &mut RustStepContext<'_>) -> RustStepResult {
    Ok(())
}

fn main() {}
