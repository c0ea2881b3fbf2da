//! Phase timings for profiling, printed to stderr when the environment
//! variable `MIGRATOR_TIMINGS` is set (the profile mode of
//! `bench/generate/run.py`); free otherwise. Not an interface: the labels
//! and the format may change at any time.

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("MIGRATOR_TIMINGS").is_some())
}

/// Times a phase from its creation to its drop.
pub(crate) struct Phase {
    label: &'static str,
    started: Option<Instant>,
}

/// Starts timing `label` (a no-op unless `MIGRATOR_TIMINGS` is set).
pub(crate) fn phase(label: &'static str) -> Phase {
    Phase {
        label,
        started: enabled().then(Instant::now),
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        if let Some(started) = self.started {
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            eprintln!("timing: {:<28} {ms:>9.2} ms", self.label);
        }
    }
}
