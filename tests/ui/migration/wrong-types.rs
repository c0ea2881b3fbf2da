use migrator::RustStepResult;

// Right shape, wrong types: the compiler's check names the signature.
#[migrator::migration]
fn backfill(_conn: &mut diesel::SqliteConnection) -> RustStepResult {
    Ok(())
}

#[migrator::migration]
fn unbackfill(_ctx: &mut migrator::RustStepContext<'_>) -> Result<(), u8> {
    Ok(())
}

fn main() {}
