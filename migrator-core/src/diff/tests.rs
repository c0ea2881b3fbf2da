//! Unit tests: one per kind of change and per ordering rule. Every plan goes
//! through `check`, which replays both directions with the strict checker.

use super::*;
use crate::ops::inverse_all;
use crate::schema::{
    Check, Column, ColumnType, DefaultValue, ForeignKey, Index, RefAction, Table, Unique,
};

// ---------------------------------------------------------------- builders

fn col(name: &str, ty: ColumnType) -> Column {
    Column::new(name, ty)
}

fn null(mut c: Column) -> Column {
    c.nullable = true;
    c
}

fn def(mut c: Column, d: DefaultValue) -> Column {
    c.default = Some(d);
    c
}

fn serial(name: &str) -> Column {
    let mut c = col(name, ColumnType::BigInt);
    c.auto_increment = true;
    c
}

fn table(name: &str, columns: Vec<Column>, pk: &[&str]) -> Table {
    let mut t = Table::new(name);
    t.columns = columns;
    t.primary_key = pk.iter().map(|s| s.to_string()).collect();
    t
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn index(table: &str, cols: &[&str]) -> Index {
    Index {
        name: crate::schema::naming::index(table, &strings(cols)),
        columns: strings(cols),
    }
}

fn unique(table: &str, cols: &[&str]) -> Unique {
    Unique {
        name: crate::schema::naming::unique(table, &strings(cols)),
        columns: strings(cols),
        nulls_not_distinct: false,
    }
}

fn fk(table: &str, cols: &[&str], ref_table: &str, ref_cols: &[&str]) -> ForeignKey {
    ForeignKey {
        name: crate::schema::naming::foreign_key(table, &strings(cols)),
        columns: strings(cols),
        ref_table: ref_table.into(),
        ref_columns: strings(ref_cols),
        on_delete: RefAction::NoAction,
        on_update: RefAction::NoAction,
    }
}

fn users() -> Table {
    table(
        "users",
        vec![
            serial("id"),
            col("email", ColumnType::Varchar(200)),
            null(col("name", ColumnType::Text)),
        ],
        &["id"],
    )
}

fn tasks() -> Table {
    let mut t = table(
        "tasks",
        vec![
            serial("id"),
            col("user_id", ColumnType::BigInt),
            col("title", ColumnType::Text),
        ],
        &["id"],
    );
    t.indexes.push(index("tasks", &["user_id"]));
    t.foreign_keys
        .push(fk("tasks", &["user_id"], "users", &["id"]));
    t
}

fn schema(tables: Vec<Table>) -> Schema {
    let mut s = Schema::new();
    for t in tables {
        s.insert(t);
    }
    s.normalize();
    s
}

fn no_hints() -> Hints {
    Hints::default()
}

fn table_hint(new: &str, old: &str) -> Hints {
    let mut h = Hints::default();
    h.tables.insert(new.into(), old.into());
    h
}

fn column_hint(h: &mut Hints, table: &str, new: &str, old: &str) {
    h.columns.insert((table.into(), new.into()), old.into());
}

/// Diffs, then checks everything a plan promises: both directions replay
/// under the strict checker to the right schema, the downgrade is the
/// inverse, the result is deterministic, every destructive step is warned
/// about, and the hints are harmless once applied.
fn check(a: &Schema, b: &Schema, hints: &Hints) -> Plan {
    strict::validate(a).expect("old schema is valid");
    strict::validate(b).expect("new schema is valid");
    let plan = diff(a, b, hints).unwrap_or_else(|e| panic!("diff failed: {e}"));
    let mut db = strict::Strict::new(a).expect("old schema is valid");
    db.run(&plan.upgrade)
        .unwrap_or_else(|e| panic!("upgrade: {e}"));
    assert!(
        same_up_to_column_order(&db.schema, b),
        "upgrade reaches the new schema"
    );
    db.run(&plan.downgrade)
        .unwrap_or_else(|e| panic!("downgrade: {e}"));
    assert!(
        same_up_to_column_order(&db.schema, a),
        "downgrade restores the old schema"
    );
    // And the upgrade again, as `redo` does.
    db.run(&plan.upgrade)
        .unwrap_or_else(|e| panic!("upgrade after downgrade: {e}"));
    assert_eq!(plan.downgrade, inverse_all(&plan.upgrade));
    assert_eq!(diff(a, b, hints).ok(), Some(plan.clone()), "deterministic");
    let destructive = plan.upgrade.iter().filter(|op| op.is_destructive()).count();
    assert!(plan.warnings.len() >= destructive, "{:#?}", plan.warnings);
    assert!(diff(b, b, hints)
        .expect("applied hints are ignored")
        .is_empty());
    plan
}

fn lines(ops: &[Operation]) -> Vec<String> {
    ops.iter().map(|op| op.to_string()).collect()
}

// ---------------------------------------------------------------- basics

#[test]
fn identical_schemas_give_an_empty_plan() {
    let s = schema(vec![users(), tasks()]);
    let plan = check(&s, &s, &no_hints());
    assert!(plan.is_empty());
    assert!(plan.warnings.is_empty());
}

#[test]
fn column_order_alone_is_not_a_change() {
    let a = schema(vec![users()]);
    let mut u = users();
    u.columns.reverse();
    let plan = check(&a, &schema(vec![u]), &no_hints());
    assert!(plan.is_empty());
}

#[test]
fn create_table_with_inline_foreign_key_to_an_existing_table() {
    let a = schema(vec![users()]);
    let b = schema(vec![users(), tasks()]);
    let plan = check(&a, &b, &no_hints());
    assert_eq!(
        plan.upgrade,
        vec![Operation::CreateTable { table: tasks() }]
    );
    assert_eq!(
        plan.downgrade,
        vec![Operation::DropTable { table: tasks() }]
    );
    assert!(plan.warnings.is_empty());
}

#[test]
fn create_tables_referenced_first() {
    let b = schema(vec![users(), tasks()]);
    let plan = check(&Schema::new(), &b, &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        [
            "+ table users (id bigint not null auto_increment, email varchar(200) not null, name text)",
            "+ table tasks (id bigint not null auto_increment, user_id bigint not null, title text not null)",
        ]
    );
}

#[test]
fn drop_table_is_warned_about() {
    let a = schema(vec![users(), tasks()]);
    let b = schema(vec![users()]);
    let plan = check(&a, &b, &no_hints());
    assert_eq!(lines(&plan.upgrade), ["- table tasks"]);
    assert_eq!(
        plan.warnings,
        ["dropping table `tasks` deletes all of its rows; the downgrade recreates the table but not its data"]
    );
}

#[test]
fn dropped_and_created_table_suggests_a_rename() {
    let a = schema(vec![users()]);
    let mut people = users();
    people.name = "people".into();
    let plan = check(&a, &schema(vec![people]), &no_hints());
    assert_eq!(lines(&plan.upgrade)[1], "- table users");
    assert_eq!(
        plan.warnings,
        ["dropping table `users` deletes all of its rows; the downgrade recreates the table but not its data; \
          if table `people` is `users` renamed, add `#[model(renamed_from = \"users\")]` to its struct"]
    );
}

// ---------------------------------------------------------------- renames

#[test]
fn rename_table_by_hint_keeps_data_and_references() {
    let a = schema(vec![users(), tasks()]);
    let mut people = users();
    people.name = "people".into();
    let mut t = tasks();
    t.foreign_keys[0].ref_table = "people".into();
    let b = schema(vec![people, t]);
    let plan = check(&a, &b, &table_hint("people", "users"));
    assert_eq!(lines(&plan.upgrade), ["~ table users renamed to people"]);
    assert!(plan.warnings.is_empty());
}

#[test]
fn rename_hint_for_a_missing_old_table_is_an_error() {
    // `users` is dropped by the plan: the hint may be a typo of it.
    let a = schema(vec![users()]);
    let mut people = users();
    people.name = "people".into();
    let b = schema(vec![people]);
    let err = diff(&a, &b, &table_hint("people", "persons")).expect_err("refused");
    assert_eq!(
        err,
        DiffError::Hint(
            "table `people` is marked `renamed_from = \"persons\"`, but the snapshot has no table `persons`\n\
             help: fix the old name or remove the attribute; the snapshot has: `users`"
                .into()
        )
    );
}

/// A hint whose old table is in neither the snapshot nor the models, with
/// nothing unmatched in the snapshot (a fresh project, a squashed history):
/// stale, so noted and ignored, and the table is created.
#[test]
fn stale_rename_hints_warn_and_are_ignored() {
    let mut people = users();
    people.name = "people".into();
    let plan = check(
        &Schema::default(),
        &schema(vec![people.clone()]),
        &table_hint("people", "persons"),
    );
    assert_eq!(lines(&plan.upgrade).len(), 1, "{:?}", plan.upgrade);
    assert!(matches!(&plan.upgrade[0], Operation::CreateTable { table } if table.name == "people"));
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("`renamed_from = \"persons\"`") && w.contains("stale and ignored")),
        "{:?}",
        plan.warnings
    );
    // The same for a column whose table has nothing the models drop.
    let a = schema(vec![users()]);
    let mut u = users();
    let mut extra = u.columns[1].clone();
    extra.name = "mail".into();
    extra.nullable = true;
    u.columns.push(extra);
    let mut h = no_hints();
    column_hint(&mut h, "users", "mail", "e_mail");
    let plan = check(&a, &schema(vec![u]), &h);
    assert_eq!(lines(&plan.upgrade).len(), 1, "{:?}", plan.upgrade);
    assert!(
        matches!(&plan.upgrade[0], Operation::AddColumn { column, .. } if column.name == "mail")
    );
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("`renamed_from = \"e_mail\"`") && w.contains("stale and ignored")),
        "{:?}",
        plan.warnings
    );
}

#[test]
fn rename_hint_already_applied_is_ignored() {
    let mut people = users();
    people.name = "people".into();
    let s = schema(vec![people]);
    // The snapshot already has `people` and no `users`: the hint was applied.
    let plan = check(&s, &s, &table_hint("people", "users"));
    assert!(plan.is_empty());
}

#[test]
fn rename_hint_already_applied_with_old_table_present_is_noted() {
    let mut people = users();
    people.name = "people".into();
    let a = schema(vec![users(), people.clone()]);
    let b = schema(vec![people]);
    let plan = check(&a, &b, &table_hint("people", "users"));
    assert_eq!(lines(&plan.upgrade), ["- table users"]);
    assert!(
        plan.warnings[1].contains("taken as already applied"),
        "{:?}",
        plan.warnings
    );
}

#[test]
fn two_tables_claiming_one_old_name_is_an_error() {
    let a = schema(vec![users()]);
    let mut p = users();
    p.name = "people".into();
    let mut q = users();
    q.name = "persons".into();
    let b = schema(vec![p, q]);
    let mut h = table_hint("people", "users");
    h.tables.insert("persons".into(), "users".into());
    let err = diff(&a, &b, &h).expect_err("refused");
    assert!(
        err.to_string().starts_with(
            "tables `people` and `persons` are both marked `renamed_from = \"users\"`"
        ),
        "{err}"
    );
}

#[test]
fn hint_on_a_table_missing_from_the_models_is_an_error() {
    let a = schema(vec![users()]);
    let err = diff(&a, &a, &table_hint("people", "users")).expect_err("refused");
    assert!(
        matches!(err, DiffError::Hint(m) if m.contains("`people`, which is not in the models"))
    );
}

#[test]
fn rename_column_by_hint_carries_indexes_and_foreign_keys() {
    let a = schema(vec![users(), tasks()]);
    let mut t = tasks();
    t.columns[1].name = "owner_id".into();
    // The index and foreign key keep their names; their columns follow.
    t.indexes[0].columns = strings(&["owner_id"]);
    t.foreign_keys[0].columns = strings(&["owner_id"]);
    let b = schema(vec![users(), t]);
    let mut h = no_hints();
    column_hint(&mut h, "tasks", "owner_id", "user_id");
    let plan = check(&a, &b, &h);
    assert_eq!(
        lines(&plan.upgrade),
        ["~ column tasks.user_id renamed to owner_id"]
    );
}

#[test]
fn rename_column_hint_for_a_missing_old_column_is_an_error() {
    let a = schema(vec![users()]);
    let mut u = users();
    u.columns[1].name = "mail".into();
    let mut h = no_hints();
    column_hint(&mut h, "users", "mail", "e_mail");
    let err = diff(&a, &schema(vec![u]), &h).expect_err("refused");
    assert_eq!(
        err.to_string(),
        "column `users.mail` is marked `renamed_from = \"e_mail\"`, but table `users` in the snapshot has no column `e_mail`\n\
         help: fix the old name or remove the attribute; the snapshot's columns are: `id`, `email`, `name`"
    );
}

#[test]
fn renamed_table_with_renamed_column() {
    let a = schema(vec![users(), tasks()]);
    let mut people = users();
    people.name = "people".into();
    people.columns[1].name = "mail".into();
    let mut t = tasks();
    t.foreign_keys[0].ref_table = "people".into();
    let b = schema(vec![people, t]);
    let mut h = table_hint("people", "users");
    // The column hint is keyed by the table's new name.
    column_hint(&mut h, "people", "mail", "email");
    let plan = check(&a, &b, &h);
    assert_eq!(
        lines(&plan.upgrade),
        [
            "~ table users renamed to people",
            "~ column people.email renamed to mail"
        ]
    );
    assert_eq!(
        lines(&plan.downgrade),
        [
            "~ column people.mail renamed to email",
            "~ table people renamed to users"
        ]
    );
}

#[test]
fn column_hint_on_a_new_table_is_ignored() {
    let a = schema(vec![]);
    let b = schema(vec![users()]);
    let mut h = no_hints();
    column_hint(&mut h, "users", "email", "mail");
    let plan = check(&a, &b, &h);
    assert_eq!(plan.upgrade.len(), 1);
}

#[test]
fn renamed_column_and_a_new_column_under_the_old_name() {
    let a = schema(vec![users()]);
    let mut u = users();
    u.columns[2].name = "full_name".into();
    u.columns.push(null(col("name", ColumnType::Varchar(40))));
    let mut h = no_hints();
    column_hint(&mut h, "users", "full_name", "name");
    let plan = check(&a, &schema(vec![u]), &h);
    assert_eq!(
        lines(&plan.upgrade),
        [
            "~ column users.name renamed to full_name",
            "+ column users.name varchar(40)"
        ]
    );
}

// ---------------------------------------------------------------- columns

#[test]
fn add_nullable_column_and_column_with_default() {
    let a = schema(vec![users()]);
    let mut u = users();
    u.columns.push(null(col("bio", ColumnType::Text)));
    u.columns.push(def(
        col("active", ColumnType::Boolean),
        DefaultValue::Bool(true),
    ));
    let plan = check(&a, &schema(vec![u]), &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        [
            "+ column users.bio text",
            "+ column users.active boolean not null default true"
        ]
    );
    assert!(plan.warnings.is_empty());
}

#[test]
fn adding_not_null_without_default_to_an_existing_table_is_refused() {
    let a = schema(vec![users()]);
    let mut u = users();
    u.columns.push(col("age", ColumnType::Integer));
    let err = diff(&a, &schema(vec![u.clone()]), &no_hints()).expect_err("refused");
    assert_eq!(
        err,
        DiffError::Refused(
            "cannot add column `users.age` as NOT NULL without a default: the rows already in the table would have no value for it\n\
             help: choose one of:\n  \
             - give it a default: `#[model(default = ...)]` or `#[model(default_sql = \"...\")]`\n  \
             - make it nullable: `Option<T>`\n  \
             - add it as `Option<T>`, backfill it with a raw SQL migration, then make it NOT NULL in a later migration"
                .into()
        )
    );
    // Several are reported together.
    u.columns.push(col("height", ColumnType::Integer));
    let err = diff(&a, &schema(vec![u]), &no_hints()).expect_err("refused");
    assert!(err
        .to_string()
        .starts_with("cannot add columns `users.age`, `users.height` as NOT NULL"));
    // An auto-increment column fills itself.
    let mut u = users();
    u.columns.push(serial("seq"));
    check(&a, &schema(vec![u]), &no_hints());
}

#[test]
fn drop_column_warns_and_suggests_a_rename() {
    let a = schema(vec![users()]);
    let mut u = users();
    u.columns.remove(2);
    u.columns.push(null(col("full_name", ColumnType::Text)));
    let plan = check(&a, &schema(vec![u]), &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        ["+ column users.full_name text", "- column users.name"]
    );
    assert_eq!(
        plan.warnings,
        ["dropping column `users.name` deletes its data; the downgrade re-adds the column but not its data; \
          if column `users.full_name` is `name` renamed, add `#[model(renamed_from = \"name\")]` to that field"]
    );
}

#[test]
fn dropping_a_not_null_column_warns_that_the_downgrade_needs_an_empty_table() {
    let a = schema(vec![users()]);
    let mut u = users();
    u.columns.remove(1);
    let plan = check(&a, &schema(vec![u]), &no_hints());
    assert!(plan.warnings[0].contains("since the column is NOT NULL without a default"));
}

#[test]
fn dropped_columns_come_back_in_their_order() {
    let mut wide = users();
    wide.columns.push(null(col("a", ColumnType::Text)));
    wide.columns.push(null(col("b", ColumnType::Text)));
    let a = schema(vec![wide]);
    let plan = check(&a, &schema(vec![users()]), &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        ["- column users.b", "- column users.a"]
    );
    // The downgrade appends `a` then `b`: the original table, column order
    // included.
    let back = crate::ops::replay(&schema(vec![users()]), &plan.downgrade).expect("replays");
    assert_eq!(back, a);
}

#[test]
fn type_change_is_one_alter_and_narrowing_is_warned_about() {
    let a = schema(vec![users()]);
    let mut u = users();
    u.columns[1].ty = ColumnType::Varchar(50);
    let plan = check(&a, &schema(vec![u.clone()]), &no_hints());
    assert_eq!(
        plan.upgrade,
        vec![Operation::AlterColumn {
            table: "users".into(),
            from: users().columns[1].clone(),
            to: u.columns[1].clone(),
        }]
    );
    assert_eq!(
        plan.warnings,
        ["changing `users.email` from `varchar(200)` to `varchar(50)` fails on, or loses, existing values \
          that do not fit; the downgrade cannot bring lost data back"]
    );
    // Widening is safe.
    let plan = check(&schema(vec![u]), &a, &no_hints());
    assert_eq!(plan.upgrade.len(), 1);
    assert!(plan.warnings.is_empty());
}

#[test]
fn nullability_default_and_auto_increment_changes() {
    let a = schema(vec![users()]);
    // Nullable -> NOT NULL without a default: warned.
    let mut u = users();
    u.columns[2].nullable = false;
    let plan = check(&a, &schema(vec![u.clone()]), &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        ["~ column users.name: name text -> name text not null"]
    );
    assert_eq!(
        plan.warnings,
        ["`users.name` becomes NOT NULL without a default: the migration fails if a row holds NULL there; \
          backfill it first with a raw SQL migration, or give it a `default = ...`"]
    );
    // With a default, the renderer backfills: no warning.
    u.columns[2].default = Some(DefaultValue::Str("anonymous".into()));
    let plan = check(&a, &schema(vec![u]), &no_hints());
    assert!(plan.warnings.is_empty());
    // Auto-increment and default changes are alters too.
    let mut u = users();
    u.columns[0].auto_increment = false;
    u.columns[1].default = Some(DefaultValue::Sql("''".into()));
    let plan = check(&a, &schema(vec![u]), &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        [
            "~ column users.id: id bigint not null auto_increment -> id bigint not null",
            "~ column users.email: email varchar(200) not null -> email varchar(200) not null default sql('')",
        ]
    );
}

// ---------------------------------------------------------------- keys

#[test]
fn primary_key_change_after_the_new_column_exists() {
    let a = schema(vec![users()]);
    let mut u = users();
    u.columns.push(def(
        col("tenant", ColumnType::Integer),
        DefaultValue::Int(1),
    ));
    u.primary_key = strings(&["tenant", "id"]);
    let plan = check(&a, &schema(vec![u]), &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        [
            "+ column users.tenant integer not null default 1",
            "~ primary key of users: (id) -> (tenant, id)",
        ]
    );
}

#[test]
fn primary_key_name_is_set_after_the_key_and_cleared_before_it_is_dropped() {
    let a = schema(vec![users()]);
    let mut named = users();
    named.primary_key_name = Some("pk_users".into());
    let plan = check(&a, &schema(vec![named.clone()]), &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        ["~ primary key name of users: pk_users"]
    );
    assert_eq!(
        lines(&plan.downgrade),
        ["~ primary key name of users: the default"]
    );
    // A new key, then its name.
    let mut keyless = users();
    keyless.primary_key.clear();
    let plan = check(
        &schema(vec![keyless.clone()]),
        &schema(vec![named.clone()]),
        &no_hints(),
    );
    assert_eq!(
        lines(&plan.upgrade),
        [
            "~ primary key of users: () -> (id)",
            "~ primary key name of users: pk_users",
        ]
    );
    // The name goes first when the key goes.
    let plan = check(&schema(vec![named]), &schema(vec![keyless]), &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        [
            "~ primary key name of users: the default",
            "~ primary key of users: (id) -> ()",
        ]
    );
}

#[test]
fn column_leaving_the_primary_key_becomes_nullable_after_the_key_changes() {
    let mut old_users = users();
    old_users.columns[2].nullable = false;
    old_users.primary_key = strings(&["id", "name"]);
    let a = schema(vec![old_users]);
    let plan = check(&a, &schema(vec![users()]), &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        [
            "~ primary key of users: (id, name) -> (id)",
            "~ column users.name: name text not null -> name text",
        ]
    );
}

#[test]
fn column_joining_the_key_as_auto_increment_is_altered_after_the_key_changes() {
    let mut old_users = users();
    old_users.columns.push(col("seq", ColumnType::BigInt));
    let a = schema(vec![old_users]);
    let mut u = users();
    u.columns[0].auto_increment = false;
    u.columns.push(serial("seq"));
    u.primary_key = strings(&["seq"]);
    let plan = check(&a, &schema(vec![u]), &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        [
            "~ column users.id: id bigint not null auto_increment -> id bigint not null",
            "~ primary key of users: (id) -> (seq)",
            "~ column users.seq: seq bigint not null -> seq bigint not null auto_increment",
        ]
    );
}

#[test]
fn indexes_single_composite_and_changed() {
    let a = schema(vec![users(), tasks()]);
    let mut t = tasks();
    t.indexes.push(index("tasks", &["user_id", "title"]));
    t.indexes.push(Index {
        name: "idx_by_title".into(),
        columns: strings(&["title"]),
    });
    let b = schema(vec![users(), t.clone()]);
    let plan = check(&a, &b, &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        [
            "+ index idx_by_title on tasks (title)",
            "+ index idx_tasks_user_id_title on tasks (user_id, title)",
        ]
    );
    // Same name, other columns: drop + add.
    let mut t2 = t.clone();
    t2.indexes
        .iter_mut()
        .find(|i| i.name == "idx_by_title")
        .expect("present")
        .columns = strings(&["title", "id"]);
    let plan = check(&b, &schema(vec![users(), t2]), &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        [
            "- index idx_by_title on tasks",
            "+ index idx_by_title on tasks (title, id)"
        ]
    );
}

#[test]
fn unique_constraints_and_checks() {
    let a = schema(vec![users()]);
    let mut u = users();
    u.uniques.push(unique("users", &["email"]));
    u.checks.push(Check {
        name: "ck_users_1".into(),
        expr: "length(email) > 3".into(),
    });
    let b = schema(vec![u.clone()]);
    let plan = check(&a, &b, &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        [
            "+ unique uq_users_email on users (email)",
            "+ check ck_users_1 on users: length(email) > 3"
        ]
    );
    let mut u2 = u;
    u2.checks[0].expr = "length(email) > 5".into();
    u2.uniques[0].columns = strings(&["email", "name"]);
    let plan = check(&b, &schema(vec![u2]), &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        [
            "- unique uq_users_email on users",
            "- check ck_users_1 on users",
            "+ unique uq_users_email on users (email, name)",
            "+ check ck_users_1 on users: length(email) > 5",
        ]
    );
    let plan = check(&b, &a, &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        [
            "- unique uq_users_email on users",
            "- check ck_users_1 on users"
        ]
    );
}

#[test]
fn foreign_key_added_dropped_and_changed() {
    let mut bare = tasks();
    bare.foreign_keys.clear();
    let a = schema(vec![users(), bare]);
    let b = schema(vec![users(), tasks()]);
    let plan = check(&a, &b, &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        ["+ foreign key fk_tasks_user_id on tasks (user_id) -> users (id)"]
    );
    let plan = check(&b, &a, &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        ["- foreign key fk_tasks_user_id on tasks"]
    );

    let mut cascade = tasks();
    cascade.foreign_keys[0].on_delete = RefAction::Cascade;
    cascade.foreign_keys[0].on_update = RefAction::SetNull;
    let plan = check(&b, &schema(vec![users(), cascade.clone()]), &no_hints());
    assert_eq!(
        plan.upgrade,
        vec![
            Operation::DropForeignKey {
                table: "tasks".into(),
                foreign_key: tasks().foreign_keys[0].clone(),
            },
            Operation::AddForeignKey {
                table: "tasks".into(),
                foreign_key: cascade.foreign_keys[0].clone(),
            },
        ]
    );
}

#[test]
fn foreign_key_is_lifted_around_a_type_change_of_its_columns() {
    let a = schema(vec![users(), tasks()]);
    let mut u = users();
    u.columns[0].ty = ColumnType::Uuid;
    u.columns[0].auto_increment = false;
    let mut t = tasks();
    t.columns[1].ty = ColumnType::Uuid;
    let plan = check(&a, &schema(vec![u, t]), &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        [
            "- foreign key fk_tasks_user_id on tasks",
            "~ column tasks.user_id: user_id bigint not null -> user_id uuid not null",
            "~ column users.id: id bigint not null auto_increment -> id uuid not null",
            "+ foreign key fk_tasks_user_id on tasks (user_id) -> users (id)",
        ]
    );
}

#[test]
fn indexes_on_foreign_key_columns_come_and_go_without_touching_the_key() {
    // Only MySQL needs an index on the referencing side, and it keeps one of
    // its own (its renderer's concern), so no foreign key churn here.
    let a = schema(vec![users(), tasks()]);
    let mut t = tasks();
    t.indexes.clear();
    let b = schema(vec![users(), t]);
    let plan = check(&a, &b, &no_hints());
    assert_eq!(lines(&plan.upgrade), ["- index idx_tasks_user_id on tasks"]);
    let plan = check(&b, &a, &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        ["+ index idx_tasks_user_id on tasks (user_id)"]
    );
}

#[test]
fn foreign_key_is_lifted_around_a_change_of_the_key_it_references() {
    let a = schema(vec![users(), tasks()]);
    let mut u = users();
    u.columns.push(def(
        col("tenant", ColumnType::Integer),
        DefaultValue::Int(1),
    ));
    u.primary_key = strings(&["tenant", "id"]);
    u.uniques.push(unique("users", &["id"]));
    let plan = check(&a, &schema(vec![u, tasks()]), &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        [
            "- foreign key fk_tasks_user_id on tasks",
            "+ column users.tenant integer not null default 1",
            "~ primary key of users: (id) -> (tenant, id)",
            "+ unique uq_users_id on users (id)",
            "+ foreign key fk_tasks_user_id on tasks (user_id) -> users (id)",
        ]
    );
}

#[test]
fn a_second_key_over_referenced_columns_comes_and_goes_freely() {
    // The foreign key is tied to the primary key, which stays.
    let a = schema(vec![users(), tasks()]);
    let mut u = users();
    u.uniques.push(unique("users", &["id"]));
    let b = schema(vec![u, tasks()]);
    let plan = check(&a, &b, &no_hints());
    assert_eq!(lines(&plan.upgrade), ["+ unique uq_users_id on users (id)"]);
}

#[test]
fn new_table_referencing_a_key_added_by_the_same_plan() {
    let a = schema(vec![users()]);
    let mut u = users();
    u.uniques.push(unique("users", &["email"]));
    let mut invites = table(
        "invites",
        vec![serial("id"), col("email", ColumnType::Varchar(200))],
        &["id"],
    );
    invites
        .foreign_keys
        .push(fk("invites", &["email"], "users", &["email"]));
    let plan = check(&a, &schema(vec![u, invites]), &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        [
            "+ table invites (id bigint not null auto_increment, email varchar(200) not null)",
            "+ unique uq_users_email on users (email)",
            "+ foreign key fk_invites_email on invites (email) -> users (email)",
        ]
    );
}

// ---------------------------------------------------------------- cycles

fn cycle_pair() -> (Table, Table) {
    let mut a = table(
        "authors",
        vec![
            serial("id"),
            null(col("best_book_id", ColumnType::BigInt)),
            null(col("mentor_id", ColumnType::BigInt)),
        ],
        &["id"],
    );
    a.foreign_keys
        .push(fk("authors", &["best_book_id"], "books", &["id"]));
    // A self-reference stays inline.
    a.foreign_keys
        .push(fk("authors", &["mentor_id"], "authors", &["id"]));
    let mut b = table(
        "books",
        vec![serial("id"), col("author_id", ColumnType::BigInt)],
        &["id"],
    );
    b.foreign_keys
        .push(fk("books", &["author_id"], "authors", &["id"]));
    (a, b)
}

#[test]
fn foreign_key_cycle_between_two_new_tables() {
    let (authors, books) = cycle_pair();
    let b = schema(vec![users(), authors, books]);
    let plan = check(&schema(vec![users()]), &b, &no_hints());
    let kinds: Vec<String> = plan
        .upgrade
        .iter()
        .map(|op| format!("{} {}", op.kind(), op.table_name().unwrap_or("")))
        .collect();
    assert_eq!(
        kinds,
        [
            "create_table authors",
            "create_table books",
            "add_foreign_key authors",
            "add_foreign_key books"
        ]
    );
    let Operation::CreateTable { table } = &plan.upgrade[0] else {
        panic!("expected create_table first");
    };
    assert_eq!(
        table
            .foreign_keys
            .iter()
            .map(|f| &f.name)
            .collect::<Vec<_>>(),
        ["fk_authors_mentor_id"],
        "the self-reference is inline, the cyclic one is not"
    );
}

#[test]
fn dropping_two_tables_that_reference_each_other() {
    let (authors, books) = cycle_pair();
    let a = schema(vec![users(), authors, books]);
    let plan = check(&a, &schema(vec![users()]), &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        [
            "- foreign key fk_authors_best_book_id on authors",
            "- foreign key fk_books_author_id on books",
            "- table books",
            "- table authors",
        ]
    );
    assert_eq!(plan.warnings.len(), 2);
}

#[test]
fn dropping_a_chain_drops_referencing_tables_first() {
    let a = schema(vec![users(), tasks()]);
    let plan = check(&a, &Schema::new(), &no_hints());
    assert_eq!(lines(&plan.upgrade), ["- table tasks", "- table users"]);
    assert_eq!(
        lines(&plan.downgrade)[0],
        "+ table users (id bigint not null auto_increment, email varchar(200) not null, name text)"
    );
}

#[test]
fn index_name_reused_from_a_dropped_table_is_freed_first() {
    let mut old = table(
        "old_tasks",
        vec![serial("id"), col("title", ColumnType::Text)],
        &["id"],
    );
    old.indexes.push(Index {
        name: "idx_title".into(),
        columns: strings(&["title"]),
    });
    let mut new = table(
        "tasks",
        vec![serial("id"), col("title", ColumnType::Text)],
        &["id"],
    );
    new.indexes.push(Index {
        name: "idx_title".into(),
        columns: strings(&["title"]),
    });
    let plan = check(&schema(vec![old]), &schema(vec![new]), &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        [
            "- index idx_title on old_tasks",
            "+ table tasks (id bigint not null auto_increment, title text not null)",
            "- table old_tasks",
        ]
    );
}

// ---------------------------------------------------------------- a full plan

#[test]
fn full_plan_is_ordered_by_phase() {
    let (authors, books) = cycle_pair();
    let a = schema(vec![users(), tasks(), authors, books]);

    let mut people = users();
    people.name = "people".into();
    people.columns[1].name = "mail".into();
    people.uniques.push(unique("people", &["mail"]));
    let mut t = tasks();
    t.foreign_keys[0].ref_table = "people".into();
    t.foreign_keys[0].on_delete = RefAction::Cascade;
    t.columns.remove(2);
    t.columns.push(def(
        col("priority", ColumnType::Varchar(20)),
        DefaultValue::Str("medium".into()),
    ));
    t.checks.push(Check {
        name: "ck_tasks_1".into(),
        expr: "priority IN ('low', 'medium', 'high')".into(),
    });
    let mut conv = table("conversations", vec![serial("id")], &["id"]);
    conv.columns.push(col("owner", ColumnType::Varchar(200)));
    conv.foreign_keys
        .push(fk("conversations", &["owner"], "people", &["mail"]));
    let b = schema(vec![people, t, conv]);

    let mut h = table_hint("people", "users");
    column_hint(&mut h, "people", "mail", "email");
    let plan = check(&a, &b, &h);
    assert_eq!(
        lines(&plan.upgrade),
        [
            "- foreign key fk_authors_best_book_id on authors",
            "- foreign key fk_books_author_id on books",
            "- foreign key fk_tasks_user_id on tasks",
            "~ table users renamed to people",
            "~ column people.email renamed to mail",
            "+ table conversations (id bigint not null auto_increment, owner varchar(200) not null)",
            "+ column tasks.priority varchar(20) not null default \"medium\"",
            "+ unique uq_people_mail on people (mail)",
            "+ check ck_tasks_1 on tasks: priority IN ('low', 'medium', 'high')",
            "+ foreign key fk_conversations_owner on conversations (owner) -> people (mail)",
            "+ foreign key fk_tasks_user_id on tasks (user_id) -> people (id)",
            "- column tasks.title",
            "- table books",
            "- table authors",
        ]
    );
    assert_eq!(
        plan.warnings,
        [
            "dropping column `tasks.title` deletes its data; the downgrade re-adds the column but not its data \
             (and fails on a table with rows, since the column is NOT NULL without a default); \
             if column `tasks.priority` is `title` renamed, add `#[model(renamed_from = \"title\")]` to that field",
            "dropping table `books` deletes all of its rows; the downgrade recreates the table but not its data; \
             if table `conversations` is `books` renamed, add `#[model(renamed_from = \"books\")]` to its struct",
            "dropping table `authors` deletes all of its rows; the downgrade recreates the table but not its data; \
             if table `conversations` is `authors` renamed, add `#[model(renamed_from = \"authors\")]` to its struct",
        ]
    );
}

// ------------------------------------- comments, collations, identities

#[test]
fn a_table_comment_is_set_changed_and_removed() {
    let a = schema(vec![users()]);
    let mut commented = users();
    commented.comment = Some("who may log in".into());
    let b = schema(vec![commented.clone()]);
    let plan = check(&a, &b, &no_hints());
    assert_eq!(
        lines(&plan.upgrade),
        ["~ comment of users: \"who may log in\""]
    );
    assert_eq!(lines(&plan.downgrade), ["~ comment of users: none"]);
    // A new table carries its comment in CREATE TABLE.
    let plan = check(&Schema::new(), &b, &no_hints());
    assert!(matches!(
        &plan.upgrade[0],
        Operation::CreateTable { table } if table.comment.as_deref() == Some("who may log in")
    ));
}

#[test]
fn column_attributes_are_column_changes() {
    let a = schema(vec![users()]);
    let mut changed = users();
    let email = changed.column_mut("email").expect("email");
    email.collation = Some("C".into());
    email.comment = Some("login".into());
    let id = changed.column_mut("id").expect("id");
    id.identity_start = Some(1000);
    let b = schema(vec![changed]);
    let plan = check(&a, &b, &no_hints());
    let kinds: Vec<&str> = plan.upgrade.iter().map(Operation::kind).collect();
    assert_eq!(
        kinds,
        ["alter_column", "alter_column"],
        "{:#?}",
        plan.upgrade
    );
}
