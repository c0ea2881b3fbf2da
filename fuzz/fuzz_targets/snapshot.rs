//! `migrations/schema.toml`: both readers (the fast line reader of the
//! canonical layout and the `toml` crate behind it) on any bytes: a snapshot
//! or an error, never a panic; and a snapshot that parses writes back to a
//! text that parses to the same snapshot.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use migrator_core::snapshot::Snapshot;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("migrations/schema.toml");
    if let Ok(snapshot) = Snapshot::parse(path, text) {
        let written = snapshot.to_text();
        let again = Snapshot::parse(path, &written)
            .unwrap_or_else(|e| panic!("a written snapshot does not parse: {e}\n{written}"));
        assert_eq!(again.to_text(), written, "writing is not stable");
    }
});
