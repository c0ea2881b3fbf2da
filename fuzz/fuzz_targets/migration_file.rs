//! A migration file, as the CLI, the runtime loader and `embed_migrations!`
//! read it: any bytes give a parsed file or an error, never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use migrator_core::migration::{parse_migration, MigrationFile};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = MigrationFile::parse(text);
        let _ = parse_migration(Path::new("migrations"), "0001_fuzz.toml", text);
    }
});
