//! Tests of the snapshot's canonical text: what `write` gives against the
//! `toml` crate's serializer, and what `read` accepts against its parser.

use proptest::prelude::*;

use super::read::plain_byte;
use super::{read, write};
use crate::schema::{
    Check, Column, ColumnType, DefaultValue, ForeignKey, Index, RefAction, Table, Unique,
};
use crate::snapshot::SnapshotFile;

/// What the `toml` crate writes for `file`: the reference of [`write`].
fn toml_text(file: &SnapshotFile) -> String {
    toml::to_string(file).expect("serialises")
}

fn written(file: &SnapshotFile) -> String {
    let mut out = String::new();
    write(
        &mut out,
        file.format,
        file.head,
        &file.chain,
        &file.migrations,
        file.tables.iter(),
    );
    out
}

/// Exact comparison (`Table`'s `PartialEq` ignores column order, and
/// NaN is not equal to itself).
fn same(a: &SnapshotFile, b: &SnapshotFile) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

/// The property of `read`: what it accepts, the `toml` crate reads to
/// the same value.
fn agrees(text: &str) -> Result<(), TestCaseError> {
    if let Some(fast) = read(text) {
        match toml::from_str::<SnapshotFile>(text) {
            Ok(slow) => prop_assert!(same(&fast, &slow), "{text}\n{fast:?}\n{slow:?}"),
            Err(e) => prop_assert!(false, "read accepted what toml refuses ({e}):\n{text}"),
        }
    }
    Ok(())
}

/// Strings that need each of TOML's encodings, and plain ones.
const STRINGS: &[&str] = &[
    "id",
    "user_id",
    "t_00001",
    "",
    "a b",
    "med'ium",
    "say \"hi\"",
    "both ' and \"",
    "''' and \"\"\"",
    "back\\slash",
    "line\nbreak",
    "tab\there",
    "ctrl\u{1}char",
    "del\u{7f}",
    "cr\rhere",
    "émoji 🦀",
    "priority IN ('low', 'medium', 'high')",
    "NUMERIC(12, 2)",
    "a = b",
    "# not a comment",
    "[[tables]]",
    "x, \"y\"",
];

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(STRINGS).prop_map(str::to_string),
        1 => "[ -~]{0,8}",
        1 => any::<String>().prop_map(|s| s.chars().take(6).collect()),
    ]
}

fn strings() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(string(), 0..3)
}

fn column_type() -> impl Strategy<Value = ColumnType> {
    prop_oneof![
        Just(ColumnType::BigInt),
        Just(ColumnType::Integer),
        Just(ColumnType::SmallInt),
        Just(ColumnType::Text),
        Just(ColumnType::Boolean),
        Just(ColumnType::Double),
        Just(ColumnType::TimestampTz),
        (1u32..100_000).prop_map(ColumnType::Varchar),
        string()
            .prop_filter("a custom type is not blank", |s| !s.trim().is_empty())
            .prop_map(ColumnType::Custom),
    ]
}

fn default_value() -> impl Strategy<Value = DefaultValue> {
    prop_oneof![
        any::<i64>().prop_map(DefaultValue::Int),
        prop_oneof![
            Just(0.0),
            Just(-0.0),
            Just(0.5),
            Just(1.0),
            Just(-2.5e-9),
            Just(1e300),
            Just(f64::NAN),
            Just(-f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            any::<f64>(),
        ]
        .prop_map(DefaultValue::Float),
        any::<bool>().prop_map(DefaultValue::Bool),
        string().prop_map(DefaultValue::Str),
        string().prop_map(DefaultValue::Sql),
    ]
}

fn column() -> impl Strategy<Value = Column> {
    (
        string(),
        column_type(),
        any::<bool>(),
        prop::option::of(default_value()),
        any::<bool>(),
        prop::option::of(string()),
        prop::option::of(string()),
        prop::option::of(string()),
        prop::option::of(any::<i64>()),
        (prop::option::of(any::<i64>()), any::<bool>()),
    )
        .prop_map(
            |(
                name,
                ty,
                nullable,
                default,
                auto_increment,
                collation,
                comment,
                on_update,
                identity_start,
                (identity_increment, identity_always),
            )| {
                Column {
                    name,
                    ty,
                    nullable,
                    default,
                    auto_increment,
                    collation,
                    comment,
                    on_update,
                    identity_start,
                    identity_increment,
                    identity_always,
                }
            },
        )
}

fn action() -> impl Strategy<Value = RefAction> {
    prop_oneof![
        3 => Just(RefAction::NoAction),
        1 => Just(RefAction::Cascade),
        1 => Just(RefAction::SetNull),
        1 => Just(RefAction::SetDefault),
        1 => Just(RefAction::Restrict),
    ]
}

fn table() -> impl Strategy<Value = Table> {
    (
        string(),
        prop::collection::vec(column(), 0..4),
        strings(),
        prop::collection::vec((string(), strings()), 0..3),
        prop::collection::vec((string(), strings(), any::<bool>()), 0..3),
        prop::collection::vec(
            (string(), strings(), string(), strings(), action(), action()),
            0..3,
        ),
        prop::collection::vec((string(), string()), 0..3),
        (
            prop::option::of(string()),
            prop::option::of(string()),
            prop::option::of(string()),
            any::<bool>(),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                name,
                columns,
                primary_key,
                idx,
                uq,
                fks,
                checks,
                (comment, collation, primary_key_name, strict, without_rowid),
            )| Table {
                name,
                comment,
                collation,
                columns,
                primary_key,
                primary_key_name,
                strict,
                without_rowid,
                indexes: idx
                    .into_iter()
                    .map(|(name, columns)| Index { name, columns })
                    .collect(),
                uniques: uq
                    .into_iter()
                    .map(|(name, columns, nulls_not_distinct)| Unique {
                        name,
                        columns,
                        nulls_not_distinct,
                    })
                    .collect(),
                foreign_keys: fks
                    .into_iter()
                    .map(
                        |(name, columns, ref_table, ref_columns, on_delete, on_update)| {
                            ForeignKey {
                                name,
                                columns,
                                ref_table,
                                ref_columns,
                                on_delete,
                                on_update,
                            }
                        },
                    )
                    .collect(),
                checks: checks
                    .into_iter()
                    .map(|(name, expr)| Check { name, expr })
                    .collect(),
            },
        )
}

fn snapshot_file() -> impl Strategy<Value = SnapshotFile> {
    (
        prop_oneof![Just(1u32), any::<u32>()],
        any::<u32>(),
        string(),
        strings(),
        prop::collection::vec(table(), 0..4),
    )
        .prop_map(|(format, head, chain, migrations, tables)| SnapshotFile {
            format,
            head,
            chain,
            migrations,
            tables,
        })
}

/// Lines that are valid TOML somewhere, or almost, for the variants.
const LINES: &[&str] = &[
    "",
    "# a comment",
    "#\u{1} control in a comment",
    "[[tables]]",
    "[[tables.columns]]",
    "[tables.columns.default]",
    "[[tables.indexes]]",
    "[[tables.uniques]]",
    "[[tables.foreign_keys]]",
    "[[tables.checks]]",
    "[tables]",
    "[[ tables ]]",
    "[[tables]] # trailing",
    "tables = []",
    "columns = []",
    "columns = [\"id\",]",
    "columns = [ \"id\" ]",
    "columns = ['id', \"x\"]",
    "name = \"x\"",
    "name = 'x'",
    "name = \"\\u0078\"",
    "name = \"\"\"x\"\"\"",
    "name = '''x'''",
    "name = 3",
    "name=\"x\"",
    "name = \"x\" # trailing",
    "\"name\" = \"x\"",
    "name.x = \"x\"",
    "type = \"bigint\"",
    "type = \"varchar(-1)\"",
    "type = \"nonsense\"",
    "nullable = true",
    "nullable = \"true\"",
    "auto_increment = false",
    "int = -0",
    "int = +1",
    "int = 1_000",
    "int = 0x10",
    "int = 01",
    "int = 9223372036854775808",
    "int = 1.5",
    "float = 1",
    "float = 1e3",
    "float = inf",
    "float = nan",
    "float = 0.1",
    "float = -00.5",
    "float = 1.",
    "bool = true",
    "str = 'a\\b'",
    "sql = \"now()\"",
    "on_delete = \"cascade\"",
    "on_delete = \"set null\"",
    "on_update = \"no_action\"",
    "ref_table = \"users\"",
    "ref_columns = [\"id\"]",
    "expr = \"a > 0\"",
    "format = 1",
    "format = -1",
    "format = 4294967296",
    "head = 7",
    "chain = \"abc\"",
    "migrations = []",
    "primary_key = [\"id\"]",
    "unknown = 1",
    " name = \"x\"",
    "name = \"x\" ",
];

/// One change to a text's lines.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize),
    Duplicate(usize),
    Swap(usize),
    Insert(usize, &'static str),
    Replace(usize, &'static str),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Duplicate),
        any::<usize>().prop_map(Edit::Swap),
        (any::<usize>(), prop::sample::select(LINES)).prop_map(|(i, l)| Edit::Insert(i, l)),
        (any::<usize>(), prop::sample::select(LINES)).prop_map(|(i, l)| Edit::Replace(i, l)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<&str> = text.split('\n').collect();
    for e in edits {
        let n = lines.len();
        match *e {
            Edit::Delete(i) if n > 0 => {
                lines.remove(i % n);
            }
            Edit::Duplicate(i) if n > 0 => lines.insert(i % n, lines[i % n]),
            Edit::Swap(i) if n > 1 => lines.swap(i % (n - 1), i % (n - 1) + 1),
            Edit::Insert(i, l) => lines.insert(i % (n + 1), l),
            Edit::Replace(i, l) if n > 0 => lines[i % n] = l,
            _ => {}
        }
    }
    lines.join("\n")
}

/// Whether `write` encodes `file` in the subset `read` reads.
fn fast_readable(file: &SnapshotFile) -> bool {
    let mut strings: Vec<String> = vec![file.chain.clone()];
    strings.extend(file.migrations.iter().cloned());
    let mut floats = Vec::new();
    for t in &file.tables {
        strings.push(t.name.clone());
        strings.extend(t.comment.iter().cloned());
        strings.extend(t.collation.iter().cloned());
        strings.extend(t.primary_key.iter().cloned());
        strings.extend(t.primary_key_name.iter().cloned());
        for c in &t.columns {
            strings.push(c.name.clone());
            strings.push(c.ty.to_string());
            strings.extend(
                [&c.collation, &c.comment, &c.on_update]
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
            match &c.default {
                Some(DefaultValue::Str(s) | DefaultValue::Sql(s)) => strings.push(s.clone()),
                Some(DefaultValue::Float(f)) => floats.push(*f),
                _ => {}
            }
        }
        for i in &t.indexes {
            strings.push(i.name.clone());
            strings.extend(i.columns.iter().cloned());
        }
        for u in &t.uniques {
            strings.push(u.name.clone());
            strings.extend(u.columns.iter().cloned());
        }
        for f in &t.foreign_keys {
            strings.push(f.name.clone());
            strings.push(f.ref_table.clone());
            strings.extend(f.columns.iter().cloned());
            strings.extend(f.ref_columns.iter().cloned());
        }
        for c in &t.checks {
            strings.push(c.name.clone());
            strings.push(c.expr.clone());
        }
    }
    // `toml_writer` escapes a tab in a basic string.
    let one_line = |s: &String| {
        s.bytes().all(|b| plain_byte(b) && b != b'\t')
            && !(s.contains(['"', '\\', '\t']) && s.contains('\''))
    };
    !file.tables.is_empty()
        && file.tables.iter().all(|t| !t.columns.is_empty())
        && strings.iter().all(one_line)
        && floats.iter().all(|f| f.is_finite())
}

/// `file` with every string `read` does not read replaced, finite
/// floats, and a column in every table.
fn plain(mut file: SnapshotFile) -> SnapshotFile {
    let fix = |s: &mut String| {
        if s.contains(|c: char| c.is_control() || c == '"' || c == '\\' || c == '\'') {
            *s = "x".to_string();
        }
    };
    let fix_all = |v: &mut Vec<String>| v.iter_mut().for_each(fix);
    fix(&mut file.chain);
    fix_all(&mut file.migrations);
    if file.tables.is_empty() {
        file.tables.push(Table::new("t"));
    }
    for t in &mut file.tables {
        fix(&mut t.name);
        if let Some(c) = &mut t.comment {
            fix(c);
        }
        if let Some(c) = &mut t.collation {
            fix(c);
        }
        fix_all(&mut t.primary_key);
        if let Some(n) = &mut t.primary_key_name {
            fix(n);
        }
        if t.columns.is_empty() {
            t.columns.push(Column::new("id", ColumnType::BigInt));
        }
        for c in &mut t.columns {
            fix(&mut c.name);
            if let ColumnType::Custom(s) = &mut c.ty {
                fix(s);
            }
            for s in [&mut c.collation, &mut c.comment, &mut c.on_update]
                .into_iter()
                .flatten()
            {
                fix(s);
            }
            match &mut c.default {
                Some(DefaultValue::Str(s) | DefaultValue::Sql(s)) => fix(s),
                Some(DefaultValue::Float(f)) if !f.is_finite() => *f = 0.25,
                _ => {}
            }
        }
        for i in &mut t.indexes {
            fix(&mut i.name);
            fix_all(&mut i.columns);
        }
        for u in &mut t.uniques {
            fix(&mut u.name);
            fix_all(&mut u.columns);
        }
        for f in &mut t.foreign_keys {
            fix(&mut f.name);
            fix(&mut f.ref_table);
            fix_all(&mut f.columns);
            fix_all(&mut f.ref_columns);
        }
        for c in &mut t.checks {
            fix(&mut c.name);
            fix(&mut c.expr);
        }
    }
    file
}

proptest! {
    #[test]
    fn write_gives_the_bytes_of_the_toml_crate(file in snapshot_file()) {
        prop_assert_eq!(written(&file), toml_text(&file));
    }

    #[test]
    fn read_agrees_with_the_toml_crate_on_canonical_text(file in snapshot_file()) {
        let text = written(&file);
        agrees(&text)?;
        // One-line strings without escapes, finite floats and a column
        // in every table: the fast path itself reads it, to the value
        // written.
        if fast_readable(&file) {
            let back = read(&text);
            prop_assert!(back.as_ref().is_some_and(|b| same(b, &file)), "{text}\n{back:?}");
        }
    }

    #[test]
    fn read_agrees_with_the_toml_crate_on_edited_text(
        file in snapshot_file(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        agrees(&apply(&written(&file), &edits))?;
    }
}

proptest! {
    // About one edited text in six is still one the fast path reads.
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn read_agrees_with_the_toml_crate_on_edited_plain_text(
        file in snapshot_file(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        // Most edits of a text the fast path reads.
        let file = plain(file);
        prop_assert!(fast_readable(&file));
        agrees(&apply(&written(&file), &edits))?;
    }
}

#[test]
fn the_canonical_sample_takes_the_fast_path() {
    let s = super::super::tests::sample();
    let text = s.to_text();
    let body = text.strip_prefix(super::super::HEADER).expect("header");
    let fast = read(&text).expect("canonical text is read directly");
    let slow: SnapshotFile = toml::from_str(&text).expect("valid TOML");
    assert!(same(&fast, &slow));
    assert!(read(body).is_some());
}
