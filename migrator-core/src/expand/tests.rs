//! The plans of the expand and the contract step, replayed both ways; the
//! database behaviour (the trigger with both versions writing) is tested on
//! PostgreSQL in `migrator-cli/tests/expand.rs`.

use super::*;
use crate::diff::diff;
use crate::ops::replay;
use crate::schema::{ColumnType, Table};

fn orders(columns: Vec<Column>) -> Schema {
    let mut t = Table::new("orders");
    t.columns = columns;
    t.primary_key = vec!["id".into()];
    let mut s = Schema::default();
    s.insert(t);
    s.normalize();
    s
}

fn id() -> Column {
    Column::new("id", ColumnType::BigInt)
}

fn hint(new: &str, old: &str) -> Hints {
    let mut h = Hints::default();
    h.columns.insert(("orders".into(), new.into()), old.into());
    h
}

/// [`hint`] with the old column kept (`#[model(keep = "..")]`).
fn kept(new: &str, old: &str) -> Hints {
    let mut h = hint(new, old);
    h.kept.insert(("orders".into(), old.into()));
    h
}

/// The generate pipeline's order: diff, kept drops, then this module.
fn plan(a: &Schema, b: &Schema, h: &Hints, declared: &[Dialect]) -> Result<Plan, String> {
    let mut p = diff(a, b, h).map_err(|e| e.to_string())?;
    crate::keep::keep_drops(&mut p, 2, a);
    expand_contract(&mut p, a, b, h, declared)?;
    Ok(p)
}

fn kinds(ops: &[Operation]) -> Vec<&'static str> {
    ops.iter().map(Operation::kind).collect()
}

#[test]
fn expand_adds_relaxed_column_trigger_backfill_then_not_null() {
    let before = orders(vec![id(), Column::new("qty", ColumnType::Integer)]);
    let during = orders(vec![
        id(),
        Column::new("qty", ColumnType::Integer),
        Column::new("quantity", ColumnType::BigInt),
    ]);
    let h = kept("quantity", "qty");
    let p = plan(&before, &during, &h, &[Dialect::Postgres]).unwrap();
    assert_eq!(
        kinds(&p.upgrade),
        ["add_column", "sql", "backfill", "alter_column"]
    );
    let Operation::AddColumn { column, .. } = &p.upgrade[0] else {
        unreachable!()
    };
    assert!(column.nullable, "added nullable first: {column:?}");
    let Operation::Sql(raw) = &p.upgrade[1] else {
        unreachable!()
    };
    let sql = raw.postgres.as_deref().unwrap();
    assert!(sql.contains("NEW.\"quantity\" := NEW.\"qty\";"), "{sql}");
    assert!(sql.contains("NEW.\"qty\" := NEW.\"quantity\";"), "{sql}");
    let Operation::Backfill(b) = &p.upgrade[2] else {
        unreachable!()
    };
    assert_eq!(b.set, "quantity = qty");
    assert_eq!(b.predicate, "quantity IS NULL AND qty IS NOT NULL");
    assert_eq!(replay(&before, &p.upgrade).unwrap(), during);
    assert_eq!(replay(&during, &p.downgrade).unwrap(), before);
    assert_eq!(
        kinds(&p.downgrade),
        ["alter_column", "backfill", "sql", "drop_column"]
    );
}

#[test]
fn contract_drops_trigger_before_the_archived_column_and_down_recomputes() {
    let during = orders(vec![
        id(),
        Column::new("qty", ColumnType::Integer),
        Column::new("quantity", ColumnType::BigInt),
    ]);
    let after = orders(vec![id(), Column::new("quantity", ColumnType::BigInt)]);
    let h = hint("quantity", "qty");
    let p = plan(&during, &after, &h, &[Dialect::Postgres]).unwrap();
    assert_eq!(kinds(&p.upgrade), ["sql", "archived"]);
    let Operation::Sql(raw) = &p.upgrade[0] else {
        unreachable!()
    };
    assert!(raw
        .postgres
        .as_deref()
        .unwrap()
        .starts_with("DROP TRIGGER IF EXISTS"));
    assert_eq!(kinds(&p.downgrade), ["archived", "sql", "backfill"]);
    let Operation::Backfill(b) = &p.downgrade[2] else {
        unreachable!()
    };
    assert_eq!(b.set, "qty = quantity");
    assert_eq!(b.predicate, "qty IS DISTINCT FROM quantity");
    assert_eq!(replay(&during, &p.upgrade).unwrap(), after);
    assert_eq!(replay(&after, &p.downgrade).unwrap(), during);
}

#[test]
fn a_plain_rename_is_untouched() {
    let before = orders(vec![id(), Column::new("qty", ColumnType::Integer)]);
    let after = orders(vec![id(), Column::new("quantity", ColumnType::Integer)]);
    let p = plan(&before, &after, &hint("quantity", "qty"), &[]).unwrap();
    assert_eq!(kinds(&p.upgrade), ["rename_column"]);
}

#[test]
fn refused_on_other_dialects_and_with_a_default() {
    let before = orders(vec![id(), Column::new("qty", ColumnType::Integer)]);
    let mut quantity = Column::new("quantity", ColumnType::BigInt);
    let during = orders(vec![
        id(),
        before.tables["orders"].columns[1].clone(),
        quantity.clone(),
    ]);
    let h = kept("quantity", "qty");
    let e = plan(&before, &during, &h, &[Dialect::Postgres, Dialect::Sqlite]).unwrap_err();
    assert!(e.contains("this project declares sqlite"), "{e}");
    let e = plan(&before, &during, &h, &[]).unwrap_err();
    assert!(e.contains("declares no `dialects`"), "{e}");
    quantity.default = Some(crate::schema::DefaultValue::Int(0));
    let during = orders(vec![
        id(),
        before.tables["orders"].columns[1].clone(),
        quantity,
    ]);
    let e = plan(&before, &during, &h, &[Dialect::Postgres]).unwrap_err();
    assert!(e.contains("has a default"), "{e}");
}

#[test]
fn long_names_fit_postgres() {
    let (old, new) = (
        Column::new("a".repeat(40), ColumnType::Text),
        Column::new("b".repeat(60), ColumnType::Text),
    );
    let name = Pair {
        table: "orders",
        old: &old,
        new: &new,
    }
    .name();
    assert_eq!(name.len(), 63, "{name}");
}

#[test]
fn a_new_column_under_the_old_name_is_no_expansion() {
    // The old name reused by another column, not kept: a rename, as before.
    let before = orders(vec![id(), Column::new("qty", ColumnType::Integer)]);
    let mut reused = Column::new("qty", ColumnType::Text);
    reused.nullable = true;
    let after = orders(vec![
        id(),
        Column::new("quantity", ColumnType::Integer),
        reused,
    ]);
    let p = plan(&before, &after, &hint("quantity", "qty"), &[]).unwrap();
    assert_eq!(kinds(&p.upgrade), ["rename_column", "add_column"]);
}

#[test]
fn casts_only_where_the_assignment_does_not_convert() {
    let (code, number) = (
        Column::new("code", ColumnType::Text),
        Column::new("code_n", ColumnType::Integer),
    );
    let pair = Pair {
        table: "orders",
        old: &code,
        new: &number,
    };
    let sql = pair.create_sql();
    assert!(
        sql.contains("NEW.\"code_n\" := CAST(NEW.\"code\" AS INTEGER);")
            && sql.contains("NEW.\"code\" := CAST(NEW.\"code_n\" AS TEXT);"),
        "{sql}"
    );
    // Text to a bounded text: the assignment refuses what is too long,
    // where a CAST would cut it.
    let short = Column::new("label", ColumnType::Varchar(8));
    let pair = Pair {
        table: "orders",
        old: &code,
        new: &short,
    };
    assert!(
        pair.create_sql().contains("NEW.\"label\" := NEW.\"code\";"),
        "{}",
        pair.create_sql()
    );
}

#[test]
fn refused_when_the_table_is_renamed_in_the_same_plan() {
    let before = orders(vec![id(), Column::new("qty", ColumnType::Integer)]);
    let mut t = before.tables["orders"].clone();
    t.name = "purchases".into();
    t.columns.push(Column::new("quantity", ColumnType::BigInt));
    let mut after = Schema::default();
    after.insert(t);
    after.normalize();
    let mut h = Hints::default();
    h.tables.insert("purchases".into(), "orders".into());
    h.columns
        .insert(("purchases".into(), "quantity".into()), "qty".into());
    h.kept.insert(("purchases".into(), "qty".into()));
    let e = plan(&before, &after, &h, &[Dialect::Postgres]).unwrap_err();
    assert!(e.contains("is renamed in the same migration"), "{e}");
}

#[test]
fn generated_steps_pass_the_fragment_checks_with_quoted_names() {
    // Names that need quotes: the backfill's SQL is still one assignment
    // list and one predicate under every database's reading.
    let before = orders(vec![id(), Column::new("Qty", ColumnType::Integer)]);
    let during = orders(vec![
        id(),
        Column::new("Qty", ColumnType::Integer),
        Column::new("Quantity", ColumnType::BigInt),
    ]);
    let p = plan(
        &before,
        &during,
        &kept("Quantity", "Qty"),
        &[Dialect::Postgres],
    )
    .unwrap();
    for op in p.upgrade.iter().chain(&p.downgrade) {
        crate::sql_fragment::check_operation(op).unwrap_or_else(|e| panic!("{op:?}: {e}"));
    }
    let Operation::Backfill(b) = &p.upgrade[2] else {
        unreachable!()
    };
    assert_eq!(b.set, "\"Quantity\" = \"Qty\"");
}
