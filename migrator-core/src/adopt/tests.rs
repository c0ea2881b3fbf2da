//! The model writer and the baseline, on schemas built by hand; the
//! databases themselves are in migrator-cli/tests/adopt.rs.

use std::path::Path;

use super::models::{field_ident, snake_ident, struct_ident, write_model, write_models};
use super::*;
use crate::introspect::OutsideKind;
use crate::schema::{
    Check, Column, ColumnType as T, DefaultValue as D, ForeignKey, Index, RefAction, Table, Unique,
};

fn col(name: &str, ty: T) -> Column {
    Column::new(name, ty)
}

/// Writes `t` and parses it back with the model parser.
fn round_trip(t: &Table) -> (String, Table) {
    let src = write_model(t, &struct_ident(&t.name));
    let defs = parse_source(Path::new("m.rs"), &src).unwrap_or_else(|e| panic!("{src}\n{e:#?}"));
    assert_eq!(defs.len(), 1, "{src}");
    (src, defs.into_iter().next().unwrap().table)
}

fn introspected(dialect: Dialect, tables: Vec<Table>, outside: Vec<Outside>) -> Introspected {
    let mut schema = Schema::new();
    for mut t in tables {
        t.normalize();
        schema.insert(t);
    }
    Introspected {
        dialect,
        schema,
        outside,
        notes: Vec::new(),
        elsewhere: Vec::new(),
    }
}

#[test]
fn identifiers_are_escaped() {
    assert_eq!(field_ident("user_id"), ("user_id".into(), false));
    assert_eq!(field_ident("type"), ("r#type".into(), false));
    assert_eq!(field_ident("UserId"), ("user_id".into(), true));
    assert_eq!(field_ident("2fa-code"), ("c_2fa_code".into(), true));
    assert_eq!(field_ident("self"), ("self_".into(), true));
    assert_eq!(field_ident("Type"), ("r#type".into(), true));
    assert_eq!(snake_ident("HTTPStatus"), "httpstatus");
    assert_eq!(struct_ident("order_items"), "OrderItems");
    assert_eq!(struct_ident("1st"), "C1st");
}

#[test]
fn odd_column_names_round_trip() {
    let mut t = Table::new("match");
    t.columns = vec![
        col("id", T::BigInt),
        col("type", T::Text),
        col("UserId", T::Integer),
        col("2fa-code", T::Text),
        col("self", T::Boolean),
        col("user_id", T::Integer),
    ];
    t.primary_key = vec!["id".into()];
    let (src, back) = round_trip(&t);
    assert!(src.contains("pub r#type: String,"), "{src}");
    assert!(src.contains("#[model(column = \"UserId\")]"), "{src}");
    assert!(src.contains("pub struct Match {"), "{src}");
    // `UserId` and `user_id` both want the field `user_id`.
    assert!(src.contains("pub user_id_: i32,"), "{src}");
    assert_eq!(back, t);
}

#[test]
fn types_without_rust_mapping_get_sql_type_and_nullable_is_option() {
    let mut t = Table::new("invoices");
    let mut total = col("total", T::Custom("NUMERIC(12, 2)".into()));
    total.nullable = true;
    let mut note = col("note", T::Varchar(200));
    note.nullable = true;
    t.columns = vec![
        col("id", T::Uuid),
        total,
        col("mood", T::Custom("mood".into())),
        note,
        col("payload", T::Json),
        col("at", T::TimestampTz),
        col("raw", T::Blob),
    ];
    t.primary_key = vec!["id".into()];
    let (src, back) = round_trip(&t);
    assert!(
        src.contains("#[model(sql_type = \"NUMERIC(12, 2)\")]\n    pub total: Option<String>,"),
        "{src}"
    );
    assert!(
        src.contains("#[model(max_length = 200)]\n    pub note: Option<String>,"),
        "{src}"
    );
    assert!(src.contains("pub id: uuid::Uuid,"), "{src}");
    assert!(
        src.contains("pub at: chrono::DateTime<chrono::Utc>,"),
        "{src}"
    );
    assert!(src.contains("pub raw: Vec<u8>,"), "{src}");
    assert_eq!(back, t);
}

#[test]
fn defaults_round_trip() {
    let mut t = Table::new("settings");
    let mut id = col("id", T::Integer);
    id.auto_increment = true;
    let with = |name: &str, ty: T, d: D| {
        let mut c = col(name, ty);
        c.default = Some(d);
        c
    };
    t.columns = vec![
        id,
        with("n", T::BigInt, D::Int(-9_223_372_036_854_775_808)),
        with("f", T::Double, D::Float(1.0)),
        with("g", T::Real, D::Float(-0.25)),
        with("b", T::Boolean, D::Bool(false)),
        with("s", T::Varchar(20), D::Str("it's \"quoted\"\n".into())),
        with("at", T::Timestamp, D::Sql("CURRENT_TIMESTAMP".into())),
        with("price", T::Custom("NUMERIC(12, 2)".into()), D::Float(9.5)),
        with("k", T::Custom("mood".into()), D::Str("happy".into())),
    ];
    t.primary_key = vec!["id".into()];
    let (src, back) = round_trip(&t);
    assert!(
        src.contains("#[model(primary_key, auto_increment)]"),
        "{src}"
    );
    assert!(src.contains("default = 1.0"), "{src}");
    assert!(src.contains("default_sql = \"CURRENT_TIMESTAMP\""), "{src}");
    assert_eq!(back, t);
}

#[test]
fn an_object_name_the_model_cannot_carry_is_refused_by_name() {
    let mut t = Table::new("m");
    t.columns = vec![col("id", T::BigInt), col("r", T::Double)];
    t.primary_key = vec!["id".into()];
    t.checks = vec![Check {
        name: "my check".into(),
        expr: "r >= 0".into(),
    }];
    let err = adopt(&introspected(Dialect::Postgres, vec![t], vec![])).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, AdoptError::Table { .. })
            && msg.contains("`my check`")
            && msg.contains("RENAME CONSTRAINT"),
        "{msg}"
    );
}

#[test]
fn a_float_column_with_an_integer_default_round_trips() {
    let mut t = Table::new("m");
    let mut r = col("r", T::Real);
    r.default = Some(D::Float(0.0));
    t.columns = vec![col("id", T::BigInt), r];
    t.primary_key = vec!["id".into()];
    let adoption = adopt(&introspected(Dialect::Postgres, vec![t], vec![])).expect("adopts");
    let text = &adoption
        .models
        .iter()
        .find(|m| m.path != "mod.rs")
        .unwrap()
        .text;
    assert!(text.contains("default = 0.0"), "{text}");
}

#[test]
fn a_default_the_parser_cannot_read_is_refused_not_miswritten() {
    let mut t = Table::new("odd");
    let mut c = col("n", T::Integer);
    c.default = Some(D::Str("x".into()));
    t.columns = vec![c];
    let err = adopt(&introspected(Dialect::Sqlite, vec![t], vec![])).unwrap_err();
    assert!(
        matches!(err, AdoptError::Table { ref why, .. } if why.contains("default")),
        "{err}"
    );
}

#[test]
fn constraints_with_database_names_and_composite_keys_round_trip() {
    let mut users = Table::new("users");
    users.columns = vec![
        col("org_id", T::BigInt),
        col("id", T::BigInt),
        col("email", T::Text),
    ];
    // Key order differs from column order.
    users.primary_key = vec!["id".into(), "org_id".into()];
    users.uniques = vec![
        Unique {
            name: "users_email_key".into(),
            columns: vec!["email".into()],
            nulls_not_distinct: false,
        },
        Unique {
            name: "uq_users_org_id_email".into(),
            columns: vec!["org_id".into(), "email".into()],
            nulls_not_distinct: false,
        },
    ];
    let mut tasks = Table::new("tasks");
    let mut owner = col("owner_id", T::BigInt);
    owner.nullable = true;
    tasks.columns = vec![
        col("id", T::BigInt),
        col("org_id", T::BigInt),
        owner,
        col("prio", T::Integer),
    ];
    tasks.primary_key = vec!["id".into()];
    tasks.indexes = vec![
        Index {
            name: "idx_tasks_org_id".into(),
            columns: vec!["org_id".into()],
        },
        Index {
            name: "tasks_org_prio".into(),
            columns: vec!["org_id".into(), "prio".into()],
        },
        Index {
            name: "idx_tasks_prio_org_id".into(),
            columns: vec!["prio".into(), "org_id".into()],
        },
    ];
    tasks.foreign_keys = vec![
        ForeignKey {
            name: "tasks_owner_fkey".into(),
            columns: vec!["owner_id".into(), "org_id".into()],
            ref_table: "users".into(),
            ref_columns: vec!["id".into(), "org_id".into()],
            on_delete: RefAction::SetNull,
            on_update: RefAction::Cascade,
        },
        ForeignKey {
            name: "fk_tasks_prio".into(),
            columns: vec!["prio".into()],
            ref_table: "users".into(),
            ref_columns: vec!["id".into()],
            on_delete: RefAction::Restrict,
            on_update: RefAction::NoAction,
        },
    ];
    tasks.checks = vec![Check {
        name: "tasks_prio_check".into(),
        expr: "prio > 0".into(),
    }];
    let db = introspected(
        Dialect::Postgres,
        vec![users.clone(), tasks.clone()],
        vec![],
    );
    let a = adopt(&db).unwrap();
    let text = |p: &str| a.models.iter().find(|f| f.path == p).unwrap().text.clone();
    let u = text("users.rs");
    assert!(
        u.contains("#[model(unique(name = \"users_email_key\", columns = \"email\"))]"),
        "{u}"
    );
    assert!(u.contains("#[model(unique = \"org_id, email\")]"), "{u}");
    assert!(
        u.find("pub id").unwrap() < u.find("pub org_id").unwrap(),
        "{u}"
    );
    let t = text("tasks.rs");
    assert!(
        t.contains(
            "#[model(foreign_key(\n    name = \"tasks_owner_fkey\",\n    columns = \"owner_id, org_id\",\n"
        ),
        "{t}"
    );
    assert!(
        t.contains("check(name = \"tasks_prio_check\", expr = \"prio > 0\")"),
        "{t}"
    );
    assert!(
        t.contains("#[model(index, foreign_key = \"users.id\", on_delete = \"restrict\")]")
            || t.contains("foreign_key = \"users.id\", on_delete = \"restrict\""),
        "{t}"
    );
    let m = text("mod.rs");
    assert!(
        m.contains(
            "pub mod tasks;\npub mod users;\n\npub use tasks::Tasks;\npub use users::Users;\n"
        ),
        "{m}"
    );
    // `adopt` checked the round trip itself; check it again here.
    assert_eq!(round_trip(&users).1, {
        let mut u = users.clone();
        u.normalize();
        u
    });
    assert_eq!(round_trip(&tasks).1, {
        let mut t = tasks.clone();
        t.normalize();
        t
    });
}

#[test]
fn baseline_frames_the_tables_with_raw_sql_in_dependency_order() {
    let mut t = Table::new("items");
    t.columns = vec![col("id", T::BigInt), col("mood", T::Custom("mood".into()))];
    t.primary_key = vec!["id".into()];
    let o = |kind, name: &str, table: Option<&str>, def: Option<&str>| Outside {
        kind,
        name: name.into(),
        table: table.map(Into::into),
        definition: def.map(Into::into),
    };
    let outside = vec![
        o(OutsideKind::Extension, "citext", None, Some("CREATE EXTENSION IF NOT EXISTS citext")),
        o(OutsideKind::EnumType, "mood", None, Some("CREATE TYPE mood AS ENUM ('a', 'b')")),
        o(OutsideKind::Function, "touch()", None, Some("CREATE OR REPLACE FUNCTION public.touch()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function$ BEGIN RETURN NEW; END $function$\n")),
        o(OutsideKind::View, "v_all", None, Some(" SELECT * FROM v_base;")),
        o(OutsideKind::View, "v_base", None, Some(" SELECT id FROM items;")),
        o(OutsideKind::Trigger, "items_touch", Some("items"), Some("CREATE TRIGGER items_touch BEFORE UPDATE ON public.items FOR EACH ROW EXECUTE FUNCTION touch()")),
        o(OutsideKind::Policy, "p", Some("items"), None),
    ];
    let a = adopt(&introspected(Dialect::Postgres, vec![t], outside)).unwrap();
    let kinds: Vec<String> = a
        .migration
        .upgrade
        .iter()
        .map(|op| match op {
            Operation::Sql(r) => r
                .postgres
                .clone()
                .unwrap()
                .lines()
                .last()
                .unwrap()
                .chars()
                .take(60)
                .collect(),
            other => format!("{other:?}").chars().take(11).collect(),
        })
        .collect();
    let pos = |needle: &str| {
        kinds
            .iter()
            .position(|k| k.contains(needle))
            .unwrap_or_else(|| panic!("{needle} in {kinds:#?}"))
    };
    assert!(
        pos("EXTENSION IF NOT EXISTS \"citext\"") < pos("AS ENUM"),
        "{kinds:#?}"
    );
    assert!(pos("AS ENUM") < pos("CreateTable"), "{kinds:#?}");
    assert!(pos("$function$") < pos("CreateTable"), "{kinds:#?}");
    assert!(pos("CreateTable") < pos("FROM items"), "{kinds:#?}");
    assert!(pos("FROM items") < pos("FROM v_base"), "{kinds:#?}");
    assert!(
        pos("CREATE TRIGGER items_touch") > pos("CreateTable"),
        "{kinds:#?}"
    );
    assert_eq!(a.dumped.len(), 6, "{:?}", a.dumped);
    assert_eq!(
        a.not_adopted,
        vec!["policy `p` on `items`: migrator cannot recreate this kind of object"]
    );
    // The downgrade drops in reverse: the trigger first, the extension last.
    let down: Vec<String> = a
        .migration
        .downgrade
        .iter()
        .map(|op| format!("{op:?}"))
        .collect();
    assert!(down[0].contains("DROP TRIGGER"), "{down:#?}");
    assert!(down.last().unwrap().contains("DROP EXTENSION"), "{down:#?}");
    // The snapshot names the baseline, the migration file parses back.
    assert!(
        a.snapshot_text.contains(BASELINE_FILE),
        "{}",
        a.snapshot_text
    );
    assert_eq!(
        MigrationFile::parse(&a.migration_text).unwrap(),
        a.migration
    );
}

#[test]
fn an_empty_database_is_refused() {
    let err = adopt(&introspected(Dialect::Sqlite, vec![], vec![])).unwrap_err();
    assert_eq!(err, AdoptError::Empty);
}

#[test]
fn write_models_lists_every_table() {
    let mut s = Schema::new();
    for n in ["a", "type"] {
        let mut t = Table::new(n);
        t.columns = vec![col("id", T::Integer)];
        s.insert(t);
    }
    let files = write_models(&s);
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["a.rs", "type_table.rs", "mod.rs"]);
    assert!(
        files[2].text.contains("pub use type_table::Type;")
            || files[2].text.contains("pub use type_table::TypeTable;"),
        "{}",
        files[2].text
    );
}

#[test]
fn long_attributes_are_broken_as_rustfmt_breaks_them() {
    let mut t = Table::new("tasks");
    let mut note = col("note", T::Text);
    note.default = Some(D::Str(
        "a default long enough to push the attribute past one hundred columns".into(),
    ));
    note.ty = T::Varchar(200);
    t.columns = vec![
        col("id", T::BigInt),
        col("user_id_of_the_owner_of_this_task", T::BigInt),
        col("team_id", T::Integer),
        note,
    ];
    t.primary_key = vec!["id".into()];
    t.foreign_keys = vec![ForeignKey {
        name: "tasks_member_fk".into(),
        columns: vec!["user_id_of_the_owner_of_this_task".into(), "team_id".into()],
        ref_table: "memberships".into(),
        ref_columns: vec!["user_id".into(), "team_id".into()],
        on_delete: RefAction::Cascade,
        on_update: RefAction::NoAction,
    }];
    t.checks = vec![Check {
        name: "tasks_check".into(),
        expr: "user_id_of_the_owner_of_this_task <> 'a string, with a comma and a \"quote\"'"
            .into(),
    }];
    t.normalize();
    let (src, back) = round_trip(&t);
    assert_eq!(back, t, "{src}");
    assert!(src.lines().all(|l| l.chars().count() <= 100), "{src}");
    assert!(
        src.contains(
            "#[model(foreign_key(\n    name = \"tasks_member_fk\",\n    columns = \"user_id_of_the_owner_of_this_task, team_id\",\n"
        ),
        "{src}"
    );
    assert!(
        src.contains(
            "    #[model(\n        max_length = 200,\n        default = \"a default long enough"
        ),
        "{src}"
    );
}
