use migrator::{RustStepContext, RustStepResult};

#[migrator::migration]
fn backfill() -> RustStepResult {
    Ok(())
}

#[migrator::migration]
fn unbackfill(_ctx: &mut RustStepContext<'_>, _dry_run: bool) -> RustStepResult {
    Ok(())
}

fn main() {}
