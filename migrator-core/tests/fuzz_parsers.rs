//! Hostile input for the three parsers a user's files go through: migration
//! files, the snapshot, and model sources. Whatever the bytes, each parser
//! returns a value or an error; it never panics.
//!
//! The default run is short so `cargo test` stays fast. The documented long
//! run (a million cases per parser) is:
//!
//! ```sh
//! PROPTEST_CASES=1000000 cargo test --release -p migrator-core --features model --test fuzz_parsers
//! ```

use std::path::Path;

use migrator_core::migration::{parse_migration, MigrationFile};
use migrator_core::snapshot::Snapshot;
use proptest::prelude::*;

/// Text that looks like our TOML often enough to get past the first line:
/// fragments of real files glued with arbitrary strings.
fn tomlish() -> impl Strategy<Value = String> {
    let fragments = prop::sample::select(vec![
        "description = \"x\"\n",
        "[[upgrade]]\n",
        "[[downgrade]]\n",
        "op = \"create_table\"\n",
        "op = \"add_column\"\n",
        "op = \"sql\"\n",
        "table = \"t\"\n",
        "[upgrade.table]\nname = \"t\"\n",
        "columns = [{ name = \"c\", type = \"varchar(0)\" }]\n",
        "column = { name = \"c\", type = \"sql:\", default = { int = 9223372036854775807 } }\n",
        "reverse = { sql = \"\" }\n",
        "effect = [{ op = \"drop_table\" }]\n",
        "format = 1\nhead = 4294967295\nchain = \"\"\n",
        "migrations = [\"\"]\n",
        "[[tables]]\nname = \"\"\ncolumns = []\n",
        "\u{feff}",
        "\r\n",
        "\"\"\"",
    ]);
    prop::collection::vec(
        prop_oneof![fragments.prop_map(String::from), ".{0,12}"],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

/// Text made of what SQL fragments are made of: quotes of every kind,
/// backslashes, dollar tags, comment markers, parentheses, brackets, words.
fn fragmentish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("'"),
        Just("\""),
        Just("`"),
        Just("\\"),
        Just("$"),
        Just("$t$"),
        Just("E'"),
        Just("--"),
        Just("/*"),
        Just("*/"),
        Just("#"),
        Just("("),
        Just(")"),
        Just("["),
        Just("]"),
        Just(","),
        Just(";"),
        Just(" "),
        Just("int"),
        Just("NOT"),
        Just("NULL"),
        Just("IS"),
        Just("DROP"),
        Just("1"),
        Just("."),
        Just("é"),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

fn rustish() -> impl Strategy<Value = String> {
    let fragments = prop::sample::select(vec![
        "#[derive(Model)]\n",
        "#[model(table = \"t\")]\n",
        "#[model(primary_key, auto_increment)]\n",
        "#[model(default = -9223372036854775808)]\n",
        "#[model(max_length = 0)]\n",
        "#[model(foreign_key = \"a.b.c\", on_delete = \"\")]\n",
        "#[model(index = \",,\")]\n",
        "pub struct S {\n",
        "pub struct S;\n",
        "enum E { A }\n",
        "    pub a: Option<Option<i64>>,\n",
        "    pub b: Vec<u8>,\n",
        "    pub c: chrono::DateTime<Utc>,\n",
        "}\n",
        "mod m {\n",
        "#[cfg(test)]\n",
        "r#\"",
        "/*",
    ]);
    prop::collection::vec(
        prop_oneof![fragments.prop_map(String::from), ".{0,12}"],
        0..14,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn migration_files_never_panic(text in prop_oneof![tomlish(), any::<String>()]) {
        let _ = MigrationFile::parse(&text);
        let _ = parse_migration(Path::new("m"), "0001_fuzz.toml", &text);
    }

    #[test]
    fn snapshots_never_panic(text in prop_oneof![tomlish(), any::<String>()]) {
        let _ = Snapshot::parse(Path::new("schema.toml"), &text);
    }

    #[test]
    fn sql_fragments_never_panic(text in prop_oneof![fragmentish(), any::<String>()]) {
        use migrator_core::sql_fragment::*;
        for r in [check_type(&text), check_assignments(&text), check_predicate(&text)] {
            if let Err(e) = r {
                prop_assert!(e.offset <= text.len() && text.is_char_boundary(e.offset), "{e:?}");
            }
        }
        if check_expression(&text).is_ok() {
            prop_assert_eq!(check_expression(&format!("({text})")), Ok(()));
        }
    }

    #[test]
    fn model_sources_never_panic(text in prop_oneof![rustish(), any::<String>()]) {
        let _ = migrator_core::model::parse_source(Path::new("src/fuzz.rs"), &text);
    }
}
