use migrator::RustStepContext;

#[migrator::migration]
fn backfill(ctx: &mut RustStepContext<'_>) {
    let _ = ctx.execute("UPDATE tasks SET done = FALSE");
}

fn main() {}
