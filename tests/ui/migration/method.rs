use migrator::{RustStepContext, RustStepResult};

struct Steps;

impl Steps {
    #[migrator::migration]
    fn backfill(&self, _ctx: &mut RustStepContext<'_>) -> RustStepResult {
        Ok(())
    }
}

fn main() {}
