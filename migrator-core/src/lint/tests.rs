use super::*;
use crate::migration::MigrationFile;
use crate::ops::RawSql;
use crate::schema::{Column, Table};

fn migration(upgrade: Vec<Operation>) -> Migration {
    Migration {
        version: 2,
        name: "change".into(),
        file_name: "0002_change.toml".into(),
        checksum: String::new(),
        file: MigrationFile::new("change", upgrade, Vec::new()),
    }
}

fn tasks() -> Schema {
    let mut t = Table::new("tasks");
    t.columns.push(Column::new("id", ColumnType::BigInt));
    t.columns
        .push(Column::new("title", ColumnType::Varchar(100)));
    t.primary_key = vec!["id".into()];
    let mut s = Schema::new();
    s.insert(t);
    s
}

fn raw(sql: &str) -> Operation {
    Operation::Sql(RawSql {
        sql: Some(sql.into()),
        ..Default::default()
    })
}

fn names(m: &Migration, start: &Schema) -> Vec<&'static str> {
    lint_migration(m, start, &[Dialect::Postgres])
        .iter()
        .map(|f| f.rule.name)
        .collect()
}

#[test]
fn typed_operations() {
    let title = Column::new("title", ColumnType::Varchar(100));
    let m = migration(vec![
        Operation::DropColumn {
            table: "tasks".into(),
            column: title.clone(),
        },
        Operation::AddColumn {
            table: "tasks".into(),
            column: Column::new("done", ColumnType::Boolean),
        },
    ]);
    assert_eq!(
        names(&m, &tasks()),
        ["destructive-drop", "not-null-without-default"]
    );
    let alter = |to: ColumnType| {
        migration(vec![Operation::AlterColumn {
            table: "tasks".into(),
            from: title.clone(),
            to: Column::new("title", to),
        }])
    };
    assert_eq!(
        names(&alter(ColumnType::Varchar(10)), &tasks()),
        ["breaks-running-version", "narrowing-type"]
    );
    assert!(
        names(&alter(ColumnType::Text), &tasks()).is_empty(),
        "binary compatible"
    );
    assert!(names(&alter(ColumnType::Varchar(200)), &tasks()).is_empty());
    // On a table the migration creates, nothing is at risk.
    assert!(names(&m, &Schema::new())
        .iter()
        .all(|n| *n != "not-null-without-default"));
}

#[test]
fn in_place_renames_and_type_changes_break_the_running_version() {
    let rename = migration(vec![Operation::RenameColumn {
        table: "tasks".into(),
        from: "title".into(),
        to: "name".into(),
    }]);
    assert_eq!(
        names(&rename, &tasks()),
        ["rename", "breaks-running-version"]
    );
    let finding = lint_migration(&rename, &tasks(), &[Dialect::Postgres])
        .into_iter()
        .find(|f| f.rule.name == "breaks-running-version")
        .expect("found");
    assert!(
        finding.to_string().contains("keep = \"old\"")
            && finding.to_string().contains("Rolling deploys"),
        "{finding}"
    );
    let wider = migration(vec![Operation::AlterColumn {
        table: "tasks".into(),
        from: Column::new("title", ColumnType::Integer),
        to: Column::new("title", ColumnType::BigInt),
    }]);
    assert_eq!(
        names(&wider, &tasks()),
        ["breaks-running-version", "table-rewrite"]
    );
}

#[test]
fn not_null_after_a_backfill_of_the_column_is_not_flagged() {
    let loose = Column {
        nullable: true,
        ..Column::new("title", ColumnType::Varchar(100))
    };
    let strict = Column::new("title", ColumnType::Varchar(100));
    let alter = Operation::AlterColumn {
        table: "tasks".into(),
        from: loose,
        to: strict,
    };
    let fill = Operation::Backfill(crate::ops::Backfill {
        table: "tasks".into(),
        set: "\"title\" = 'x'".into(),
        predicate: "title IS NULL".into(),
        batch_size: 10,
        pause_ms: 0,
        reverse: None,
    });
    assert_eq!(
        names(&migration(vec![alter.clone()]), &tasks()),
        ["not-null-without-default"]
    );
    assert!(names(&migration(vec![fill, alter]), &tasks()).is_empty());
}

#[test]
fn raw_sql_rules() {
    let cases = [
        (
            "CREATE INDEX i ON tasks (title)",
            vec!["create-index-without-concurrently"],
        ),
        (
            "create unique index concurrently i on tasks (title)",
            vec![],
        ),
        (
            "ALTER TABLE tasks ADD CONSTRAINT fk FOREIGN KEY (u) REFERENCES users (id)",
            vec!["add-constraint-without-not-valid"],
        ),
        (
            "ALTER TABLE tasks ADD CONSTRAINT ck CHECK (x > 0) NOT VALID",
            vec![],
        ),
        (
            "ALTER TABLE tasks ADD CONSTRAINT uq UNIQUE (title)",
            vec!["add-unique-without-index"],
        ),
        (
            "ALTER TABLE tasks ADD CONSTRAINT uq UNIQUE USING INDEX uq",
            vec![],
        ),
        (
            "ALTER TABLE tasks ALTER COLUMN title SET NOT NULL",
            vec!["set-not-null"],
        ),
        (
            "ALTER TABLE tasks ALTER COLUMN title TYPE text",
            vec!["alter-column-type"],
        ),
        (
            "ALTER TABLE tasks ALTER title SET DATA TYPE text",
            vec!["alter-column-type"],
        ),
        (
            "SET lock_timeout = 0; UPDATE t SET a = 1",
            vec!["missing-lock-timeout"],
        ),
        ("SET lock_timeout = '2s'", vec![]),
        (
            "-- CREATE INDEX i ON t (a)\nSELECT 'CREATE INDEX x ON y (z)'",
            vec![],
        ),
    ];
    for (sql, want) in cases {
        let got: Vec<&str> = lint_sql(sql).iter().map(|(r, _)| r.name).collect();
        assert_eq!(got, want, "{sql}");
    }
}

/// A `;` inside a `$$ .. $$` function body does not end the statement: the
/// body's text is not a statement the migration runs (it was split there,
/// and the body's `CREATE INDEX` was reported), while a statement after the
/// function still is.
#[test]
fn a_dollar_quoted_body_is_not_split() {
    let sql = "CREATE FUNCTION reindex() RETURNS void AS $$\nBEGIN\n  RAISE NOTICE 'start';\n  CREATE INDEX i ON t (a);\nEND\n$$ LANGUAGE plpgsql;\nCREATE INDEX j ON t (b);";
    let got: Vec<(&str, String)> = lint_sql(sql)
        .into_iter()
        .map(|(r, statement)| (r.name, statement))
        .collect();
    assert_eq!(
        got,
        [(
            "create-index-without-concurrently",
            "`CREATE INDEX j ON t (b)`".to_string()
        )]
    );
    // A `;` in an E-string or a quoted name ends nothing either.
    let sql = "SELECT E'it\\'s; CREATE INDEX k ON t (c)', \"a;b\"";
    assert_eq!(lint_sql(sql), []);
    // The body of a `DO` block runs with the migration: its statements
    // are judged, split at its own `;`.
    let sql = "DO $body$ BEGIN ALTER TABLE t ALTER COLUMN a SET NOT NULL; END $body$;";
    let got: Vec<(&str, String)> = lint_sql(sql)
        .into_iter()
        .map(|(r, statement)| (r.name, statement))
        .collect();
    assert_eq!(
        got,
        [(
            "set-not-null",
            "`BEGIN ALTER TABLE t ALTER COLUMN a SET NOT NULL`".to_string()
        )]
    );
}

/// A table the migration creates is empty and unseen: indexing or altering
/// it in raw SQL is fine (an adopted baseline does exactly that), while
/// the same statements on an existing table are still reported, quoted,
/// qualified or not.
#[test]
fn raw_sql_on_a_table_created_by_the_same_migration_is_not_judged() {
    let sql = "CREATE TABLE \"Audit\" (id int); CREATE INDEX a_id ON public.\"Audit\" (id); \
               ALTER TABLE ONLY \"Audit\" ADD CONSTRAINT ck CHECK (id > 0); \
               CREATE UNIQUE INDEX t_title ON tasks (lower(title)); \
               ALTER TABLE IF EXISTS Tasks ALTER COLUMN title SET NOT NULL";
    let m = migration(vec![raw(sql)]);
    assert_eq!(
        names(&m, &tasks()),
        ["create-index-without-concurrently", "set-not-null"]
    );
    // "audit" (unquoted, folded) is not the table "Audit".
    let m = migration(vec![raw(
        "CREATE TABLE \"Audit\" (id int); CREATE INDEX a ON audit (id)",
    )]);
    assert_eq!(names(&m, &tasks()), ["create-index-without-concurrently"]);
    // Typed: a baseline creating `tasks` then indexing it in raw SQL.
    let created = tasks().table("tasks").expect("tasks").clone();
    let m = migration(vec![
        Operation::CreateTable { table: created },
        raw("CREATE INDEX t_lower ON tasks (lower(title)); ALTER TABLE tasks ADD CONSTRAINT ck CHECK (id > 0)"),
    ]);
    assert!(
        names(&m, &Schema::new()).is_empty(),
        "{:?}",
        names(&m, &Schema::new())
    );
    // What sets no table still counts.
    let m = migration(vec![raw("CREATE TABLE n (id int); SET lock_timeout = 0")]);
    assert_eq!(names(&m, &Schema::new()), ["missing-lock-timeout"]);
}

#[test]
fn allow_lists_and_lock_timeout_zero() {
    let mut m = migration(vec![raw("CREATE INDEX i ON tasks (title)")]);
    m.file.lock_timeout_ms = Some(0);
    assert_eq!(
        names(&m, &tasks()),
        ["create-index-without-concurrently", "missing-lock-timeout"]
    );
    let f = &lint_migration(&m, &tasks(), &[])[0];
    let text = f.to_string();
    assert!(text.starts_with("error[create-index-without-concurrently]: 0002_change.toml: upgrade step 1: `CREATE INDEX i ON tasks (title)`"), "{text}");
    assert!(
        text.contains("why: ") && text.contains("instead: use CREATE INDEX CONCURRENTLY"),
        "{text}"
    );
    m.file.allow = vec!["missing-lock-timeout".into()];
    let left = lint_all(
        &[m],
        &[tasks()],
        &[],
        &["create-index-without-concurrently".into()],
    );
    assert!(left.is_empty(), "{left:?}");
    assert!(RULES.iter().all(|r| rule(r.name) == Some(*r)));
}

/// A backfill is the safe form of a data migration: no finding on a table
/// with a primary key; on a table without one it cannot run, which is
/// reported for every dialect; `lock_timeout_ms = 0` is reported as for
/// any step that takes locks (its batches take row locks).
#[test]
fn backfill_has_no_bogus_findings() {
    let backfill = |table: &str| {
        Operation::Backfill(crate::ops::Backfill {
            table: table.into(),
            set: "title = trim(title)".into(),
            predicate: "title <> trim(title)".into(),
            batch_size: 500,
            pause_ms: 10,
            reverse: None,
        })
    };
    let all = [Dialect::Postgres, Dialect::Sqlite, Dialect::Mysql];
    let m = migration(vec![backfill("tasks")]);
    assert_eq!(lint_migration(&m, &tasks(), &all), vec![]);

    let mut start = tasks();
    let mut logs = Table::new("logs");
    logs.columns.push(Column::new("line", ColumnType::Text));
    start.insert(logs);
    let m = migration(vec![backfill("logs")]);
    let found = lint_migration(&m, &start, &all);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found
        .iter()
        .all(|f| f.rule == UNRENDERABLE && f.what.contains("no primary key")));

    let mut m = migration(vec![backfill("tasks")]);
    m.file.lock_timeout_ms = Some(0);
    assert_eq!(names(&m, &tasks()), vec!["missing-lock-timeout"]);
}

/// `mysql-table-copy` fires on MySQL only, for changes InnoDB makes with a
/// table copy, and not for those it makes in place or instantly.
#[test]
fn mysql_table_copy() {
    let title = Column::new("title", ColumnType::Varchar(100));
    let on_mysql = |m: &Migration| -> Vec<&'static str> {
        lint_migration(m, &tasks(), &[Dialect::Mysql])
            .iter()
            .map(|f| f.rule.name)
            .filter(|n| *n == "mysql-table-copy")
            .collect()
    };
    let alter = |to: ColumnType| {
        migration(vec![Operation::AlterColumn {
            table: "tasks".into(),
            from: title.clone(),
            to: Column::new("title", to),
        }])
    };
    // A type change copies the table; a VARCHAR widening that keeps the
    // length prefix in one byte (or in two) does not.
    assert_eq!(on_mysql(&alter(ColumnType::Text)), ["mysql-table-copy"]);
    assert!(on_mysql(&alter(ColumnType::Varchar(200))).is_empty());
    // An added column is instant, an index in place.
    let add = migration(vec![
        Operation::AddColumn {
            table: "tasks".into(),
            column: Column {
                nullable: true,
                ..Column::new("notes", ColumnType::Text)
            },
        },
        Operation::CreateIndex {
            table: "tasks".into(),
            index: crate::schema::Index {
                name: "idx_tasks_title".into(),
                columns: vec!["title".into()],
            },
        },
    ]);
    assert!(on_mysql(&add).is_empty(), "{:?}", on_mysql(&add));
    // Not a PostgreSQL finding.
    assert!(!names(&alter(ColumnType::Text), &tasks()).contains(&"mysql-table-copy"));
}

mod galera_toi {
    use super::*;
    use crate::lint::galera::lint_galera_migration;
    use crate::schema::Index;

    fn galera(m: &Migration, start: &Schema) -> Vec<String> {
        lint_galera_migration(m, start)
            .into_iter()
            .map(|f| {
                assert_eq!(f.rule.name, "galera-toi-ddl");
                format!("{}: {}", f.step, f.what)
            })
            .collect()
    }

    #[test]
    fn ddl_on_existing_tables_is_reported_metadata_changes_are_not() {
        let idx = Index {
            name: "idx_tasks_title".into(),
            columns: vec!["title".into()],
        };
        let mut note = Column::new("note", ColumnType::Text);
        note.nullable = true;
        let m = migration(vec![
            Operation::CreateIndex {
                table: "tasks".into(),
                index: idx,
            },
            Operation::AddColumn {
                table: "tasks".into(),
                column: note,
            },
            raw("ALTER TABLE tasks ADD COLUMN n INT, ALGORITHM = INSTANT"),
            raw("ALTER TABLE tasks ENGINE = InnoDB; OPTIMIZE TABLE tasks"),
            raw("CREATE TABLE fresh (id INT); CREATE INDEX i ON fresh (id)"),
            Operation::RenameColumn {
                table: "tasks".into(),
                from: "title".into(),
                to: "name".into(),
            },
        ]);
        let found = galera(&m, &tasks());
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with("1: "), "{found:?}");
        assert!(
            found[1].starts_with("4: ") && found[1].contains("ENGINE"),
            "{found:?}"
        );
        assert!(
            found[2].starts_with("4: ") && found[2].contains("OPTIMIZE"),
            "{found:?}"
        );
    }

    #[test]
    fn an_added_column_is_judged_as_the_mysql_dialect_writes_it() {
        let mut computed = Column::new("slug", ColumnType::Varchar(40));
        computed.nullable = true;
        computed.default = Some(crate::schema::DefaultValue::Sql("(uuid())".into()));
        let mut stamped = Column::new("seen_at", ColumnType::Timestamp);
        stamped.default = Some(crate::schema::DefaultValue::Sql("CURRENT_TIMESTAMP".into()));
        let m = migration(vec![
            Operation::AddColumn {
                table: "tasks".into(),
                column: computed,
            },
            Operation::AddColumn {
                table: "tasks".into(),
                column: stamped,
            },
        ]);
        // An expression default is computed for every row; CURRENT_TIMESTAMP
        // is INSTANT.
        let found = galera(&m, &tasks());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("1: ") && found[0].contains("slug"),
            "{found:?}"
        );
    }

    #[test]
    fn a_table_created_by_the_migration_is_not_reported() {
        let mut t = Table::new("fresh");
        t.columns.push(Column::new("id", ColumnType::BigInt));
        let m = migration(vec![
            Operation::CreateTable { table: t },
            Operation::CreateIndex {
                table: "fresh".into(),
                index: Index {
                    name: "idx_fresh_id".into(),
                    columns: vec!["id".into()],
                },
            },
        ]);
        assert!(galera(&m, &tasks()).is_empty());
    }
}
