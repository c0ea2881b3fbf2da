//! A Rust source file under a model folder, as `generate`, `check` and the
//! derive read it: any bytes give models or located errors, never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = migrator_core::model::parse_source(Path::new("src/fuzz.rs"), text);
    }
});
