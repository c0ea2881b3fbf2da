//! Reading the snapshot's canonical text back with a line reader; `None` for
//! anything else, which the caller hands to the `toml` crate.

use super::super::SnapshotFile;
use crate::schema::{
    Check, Column, ColumnType, DefaultValue, ForeignKey, Index, RefAction, Table, Unique,
};

fn action_of(name: &str) -> Option<RefAction> {
    Some(match name {
        "no_action" => RefAction::NoAction,
        "restrict" => RefAction::Restrict,
        "cascade" => RefAction::Cascade,
        "set_null" => RefAction::SetNull,
        "set_default" => RefAction::SetDefault,
        _ => return None,
    })
}

/// The table a `key = value` line belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Root,
    Table,
    Column,
    Default,
    Index,
    Unique,
    ForeignKey,
    Check,
}

/// The keys an object of `section` must have (bit per key, as `read`
/// numbers them); the others have serde defaults.
fn required(section: Section) -> u8 {
    match section {
        // format, head, chain (migrations and tables default to empty).
        Section::Root => 0b111,
        Section::Table => 0b1,
        Section::Column | Section::Index | Section::Unique | Section::Check => 0b11,
        Section::ForeignKey => 0b1111,
        // Checked on its value instead: exactly one key.
        Section::Default => 0,
    }
}

/// Reads the canonical layout; `None` for anything else (see the module
/// docs). `text` has `\n` line ends.
pub(in crate::snapshot) fn read(text: &str) -> Option<SnapshotFile> {
    let mut format = None;
    let mut head = None;
    let mut chain = None;
    let mut migrations = None;
    let mut tables: Vec<Table> = Vec::new();
    let mut section = Section::Root;
    // Keys seen in the current object of `section` (bit per key): a
    // repeated key is an error for the `toml` crate, a missing required
    // one too.
    let mut seen: u8 = 0;

    for line in text.split('\n') {
        if line.is_empty() {
            continue;
        }
        if line.starts_with('#') {
            // A comment: tab, printable ASCII and non-ASCII only.
            if !line.bytes().all(plain_byte) {
                return None;
            }
            continue;
        }
        if line.starts_with('[') {
            // The object of the section that ends is complete.
            if seen & required(section) != required(section) {
                return None;
            }
            if section == Section::Default && tables.last()?.columns.last()?.default.is_none() {
                return None;
            }
            seen = 0;
            if line == "[[tables]]" {
                // The previous table has columns (`columns = []` is not
                // read here).
                if tables.last().is_some_and(|t| t.columns.is_empty()) {
                    return None;
                }
                tables.push(Table::new(String::new()));
                section = Section::Table;
                continue;
            }
            let t = tables.last_mut()?;
            section = match line {
                "[[tables.columns]]" => {
                    t.columns.push(Column::new("", ColumnType::Text));
                    Section::Column
                }
                "[tables.columns.default]" => {
                    // The last column's default, defined once.
                    if t.columns.last()?.default.is_some() {
                        return None;
                    }
                    Section::Default
                }
                "[[tables.indexes]]" => {
                    t.indexes.push(Index {
                        name: String::new(),
                        columns: Vec::new(),
                    });
                    Section::Index
                }
                "[[tables.uniques]]" => {
                    t.uniques.push(Unique {
                        name: String::new(),
                        columns: Vec::new(),
                        nulls_not_distinct: false,
                    });
                    Section::Unique
                }
                "[[tables.foreign_keys]]" => {
                    t.foreign_keys.push(ForeignKey {
                        name: String::new(),
                        columns: Vec::new(),
                        ref_table: String::new(),
                        ref_columns: Vec::new(),
                        on_delete: RefAction::NoAction,
                        on_update: RefAction::NoAction,
                    });
                    Section::ForeignKey
                }
                "[[tables.checks]]" => {
                    t.checks.push(Check {
                        name: String::new(),
                        expr: String::new(),
                    });
                    Section::Check
                }
                _ => return None,
            };
            continue;
        }
        let (key, value) = line.split_once(" = ")?;
        let mut once = |bit: u8| {
            let fresh = seen & bit == 0;
            seen |= bit;
            fresh.then_some(())
        };
        match section {
            Section::Root => match key {
                "format" => {
                    once(1)?;
                    format = Some(u32_value(value)?);
                }
                "head" => {
                    once(2)?;
                    head = Some(u32_value(value)?);
                }
                "chain" => {
                    once(4)?;
                    chain = Some(str_value(value)?.to_string());
                }
                "migrations" => {
                    once(8)?;
                    migrations = Some(strs_value(value)?);
                }
                _ => return None,
            },
            Section::Table => {
                let t = tables.last_mut()?;
                match key {
                    "name" => {
                        once(1)?;
                        t.name = str_value(value)?.to_string();
                    }
                    "primary_key" => {
                        once(2)?;
                        t.primary_key = strs_value(value)?;
                    }
                    "comment" => {
                        once(4)?;
                        t.comment = Some(str_value(value)?.to_string());
                    }
                    "collation" => {
                        once(8)?;
                        t.collation = Some(str_value(value)?.to_string());
                    }
                    "primary_key_name" => {
                        once(16)?;
                        t.primary_key_name = Some(str_value(value)?.to_string());
                    }
                    "strict" => {
                        once(32)?;
                        t.strict = bool_value(value)?;
                    }
                    "without_rowid" => {
                        once(64)?;
                        t.without_rowid = bool_value(value)?;
                    }
                    _ => return None,
                }
            }
            Section::Column => {
                let c = tables.last_mut()?.columns.last_mut()?;
                match key {
                    "name" => {
                        once(1)?;
                        c.name = str_value(value)?.to_string();
                    }
                    "type" => {
                        once(2)?;
                        c.ty = str_value(value)?.parse().ok()?;
                    }
                    "nullable" => {
                        once(4)?;
                        c.nullable = bool_value(value)?;
                    }
                    "auto_increment" => {
                        once(8)?;
                        c.auto_increment = bool_value(value)?;
                    }
                    "collation" => {
                        once(16)?;
                        c.collation = Some(str_value(value)?.to_string());
                    }
                    "comment" => {
                        once(32)?;
                        c.comment = Some(str_value(value)?.to_string());
                    }
                    "on_update" => {
                        once(64)?;
                        c.on_update = Some(str_value(value)?.to_string());
                    }
                    // A second key's bit would need a wider mask: the
                    // toml crate reads the file instead.
                    "identity_start" if c.identity_start.is_none() => {
                        c.identity_start = Some(int_value(value)?);
                    }
                    "identity_increment" if c.identity_increment.is_none() => {
                        c.identity_increment = Some(int_value(value)?);
                    }
                    "identity_always" if !c.identity_always => {
                        c.identity_always = bool_value(value)?;
                        // `false` is never written: read by the toml crate.
                        if !c.identity_always {
                            return None;
                        }
                    }
                    _ => return None,
                }
            }
            Section::Default => {
                let c = tables.last_mut()?.columns.last_mut()?;
                // One key, the variant: a second one is an error.
                if c.default.is_some() {
                    return None;
                }
                c.default = Some(match key {
                    "int" => DefaultValue::Int(int_value(value)?),
                    "float" => DefaultValue::Float(float_value(value)?),
                    "bool" => DefaultValue::Bool(bool_value(value)?),
                    "str" => DefaultValue::Str(str_value(value)?.to_string()),
                    "sql" => DefaultValue::Sql(str_value(value)?.to_string()),
                    _ => return None,
                });
            }
            Section::Index | Section::Unique => {
                let t = tables.last_mut()?;
                let (name, columns, nulls) = if section == Section::Index {
                    let i = t.indexes.last_mut()?;
                    (&mut i.name, &mut i.columns, None)
                } else {
                    let u = t.uniques.last_mut()?;
                    (&mut u.name, &mut u.columns, Some(&mut u.nulls_not_distinct))
                };
                match key {
                    "nulls_not_distinct" if nulls.is_some() => {
                        once(4)?;
                        *nulls? = bool_value(value)?;
                    }
                    "name" => {
                        once(1)?;
                        *name = str_value(value)?.to_string();
                    }
                    "columns" => {
                        once(2)?;
                        *columns = strs_value(value)?;
                    }
                    _ => return None,
                }
            }
            Section::ForeignKey => {
                let f = tables.last_mut()?.foreign_keys.last_mut()?;
                match key {
                    "name" => {
                        once(1)?;
                        f.name = str_value(value)?.to_string();
                    }
                    "columns" => {
                        once(2)?;
                        f.columns = strs_value(value)?;
                    }
                    "ref_table" => {
                        once(4)?;
                        f.ref_table = str_value(value)?.to_string();
                    }
                    "ref_columns" => {
                        once(8)?;
                        f.ref_columns = strs_value(value)?;
                    }
                    "on_delete" => {
                        once(16)?;
                        f.on_delete = action_of(str_value(value)?)?;
                    }
                    "on_update" => {
                        once(32)?;
                        f.on_update = action_of(str_value(value)?)?;
                    }
                    _ => return None,
                }
            }
            Section::Check => {
                let c = tables.last_mut()?.checks.last_mut()?;
                match key {
                    "name" => {
                        once(1)?;
                        c.name = str_value(value)?.to_string();
                    }
                    "expr" => {
                        once(2)?;
                        c.expr = str_value(value)?.to_string();
                    }
                    _ => return None,
                }
            }
        }
    }
    // The last object and the last table are complete too.
    if seen & required(section) != required(section)
        || (section == Section::Default && tables.last()?.columns.last()?.default.is_none())
        || tables.last().is_some_and(|t| t.columns.is_empty())
    {
        return None;
    }
    Some(SnapshotFile {
        format: format?,
        head: head?,
        chain: chain?,
        migrations: migrations.unwrap_or_default(),
        tables,
    })
}

/// What TOML allows in comments and one-line strings: tab, printable
/// ASCII, anything non-ASCII.
pub(super) fn plain_byte(b: u8) -> bool {
    b == b'\t' || (0x20..0x7f).contains(&b) || b >= 0x80
}

fn u32_value(v: &str) -> Option<u32> {
    if !is_decimal(v) || v.starts_with('-') {
        return None;
    }
    v.parse().ok()
}

fn int_value(v: &str) -> Option<i64> {
    if !is_decimal(v) {
        return None;
    }
    v.parse().ok()
}

/// `-?(0|[1-9][0-9]*)`: a TOML decimal integer without `+` or `_`.
fn is_decimal(v: &str) -> bool {
    let digits = v.strip_prefix('-').unwrap_or(v);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

/// `-?(0|[1-9][0-9]*)\.[0-9]+`, as `toml_writer` writes finite floats;
/// `nan`, `inf` and exponents are left to the `toml` crate.
fn float_value(v: &str) -> Option<f64> {
    let (int, frac) = v.split_once('.')?;
    if !is_decimal(int) || frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

fn bool_value(v: &str) -> Option<bool> {
    match v {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// A one-line string without escapes: `"..."` without `"` or `\`, or
/// `'...'` without `'`; no control character but tab in either.
fn str_value(v: &str) -> Option<&str> {
    let (quote, inner) = match v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) => (b'"', inner),
        None => (b'\'', v.strip_prefix('\'')?.strip_suffix('\'')?),
    };
    let plain = inner
        .bytes()
        .all(|b| plain_byte(b) && b != quote && (quote == b'\'' || b != b'\\'));
    plain.then_some(inner)
}

/// `[]` or `["a", "b"]`: strings as [`str_value`] reads them, separated by
/// `, `.
fn strs_value(v: &str) -> Option<Vec<String>> {
    let inner = v.strip_prefix('[')?.strip_suffix(']')?;
    let mut out = Vec::new();
    let mut rest = inner;
    while !rest.is_empty() {
        let quote = rest.chars().next()?;
        if quote != '"' && quote != '\'' {
            return None;
        }
        // The closing quote: strings hold no quote of their own kind.
        let end = rest[1..].find(quote)? + 2;
        out.push(str_value(&rest[..end])?.to_string());
        rest = &rest[end..];
        if !rest.is_empty() {
            rest = rest.strip_prefix(", ")?;
            if rest.is_empty() {
                return None;
            }
        }
    }
    Some(out)
}
