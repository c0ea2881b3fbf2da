use std::sync::OnceLock;

use super::chain::check_chain;
use super::set::{Checkpoints, CHECKPOINT_EVERY};
use super::*;
use crate::ledger::chain_of;
use crate::schema::{Column, ColumnType, Table};
use crate::snapshot::Snapshot;

fn create_users() -> MigrationFile {
    let mut t = Table::new("users");
    t.columns.push(Column::new("id", ColumnType::BigInt));
    t.primary_key = vec!["id".into()];
    let upgrade = vec![Operation::CreateTable { table: t }];
    let downgrade = downgrade_for(&upgrade);
    MigrationFile::new("create users", upgrade, downgrade)
}

fn add_email() -> MigrationFile {
    let mut c = Column::new("email", ColumnType::Text);
    c.nullable = true;
    let upgrade = vec![Operation::AddColumn {
        table: "users".into(),
        column: c,
    }];
    let downgrade = downgrade_for(&upgrade);
    MigrationFile::new("add email", upgrade, downgrade)
}

fn files() -> Vec<(String, String)> {
    vec![
        (
            "0001_create_users.toml".into(),
            create_users().to_text("test"),
        ),
        ("0002_add_email.toml".into(), add_email().to_text("test")),
    ]
}

fn snapshot_for(ms: &[Migration]) -> Snapshot {
    let states = replay_states(Path::new("m"), ms).expect("replays");
    Snapshot {
        head: ms.last().map_or(0, |m| m.version),
        chain: chain_of(ms.iter().map(|m| (m.version, m.checksum.as_str()))),
        files: ms
            .iter()
            .map(|m| crate::snapshot::file_entry(&m.checksum, &m.file_name))
            .collect(),
        schema: states.last().cloned().unwrap_or_default(),
    }
}

#[test]
fn a_migration_file_round_trips() {
    let f = create_users();
    let text = f.to_text("generated");
    let m = parse_migration(Path::new("m"), "0001_create_users.toml", &text).expect("parses");
    assert_eq!(m.file, f);
    assert_eq!(m.version, 1);
    assert_eq!(m.name, "create_users");
    assert_eq!(m.id(), "0001_create_users");
}

#[test]
fn checksum_ignores_line_endings_and_bom_but_not_content() {
    let text = create_users().to_text("x");
    let crlf = format!("\u{feff}{}", text.replace('\n', "\r\n"));
    assert_eq!(checksum(&text), checksum(&crlf));
    assert_ne!(
        checksum(&text),
        checksum(&text.replace("create users", "create users!"))
    );
}

#[test]
fn file_names_are_checked() {
    assert_eq!(parse_file_name("0001_a.toml"), Ok(Some((1, "a".into()))));
    assert_eq!(parse_file_name("schema.toml"), Ok(None));
    assert_eq!(parse_file_name("README.md"), Ok(None));
    for bad in [
        "1_a.toml",
        "0001.toml",
        "0001_A.toml",
        "0000_a.toml",
        "0001_a-b.toml",
        "00001_a.toml",
    ] {
        assert!(parse_file_name(bad).is_err(), "{bad}");
    }
}

#[test]
fn parse_errors_name_file_line_and_column() {
    let text = "description = \"x\"\n\n[[upgrade]]\nop = \"explode_table\"\n";
    let e = parse_migration(Path::new("migrations"), "0001_x.toml", text).unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("migrations/0001_x.toml:4:6:"), "{msg}");
    assert!(msg.contains("explode_table"), "{msg}");
}

#[test]
fn gaps_and_duplicates_are_refused() {
    let mut fs = files();
    fs[1].0 = "0003_add_email.toml".into();
    let e = parse_all(Path::new("m"), &fs).unwrap_err().to_string();
    assert!(e.contains("migration number 0002 is missing"), "{e}");

    let mut fs = files();
    fs[1].0 = "0001_add_email.toml".into();
    let e = parse_all(Path::new("m"), &fs).unwrap_err().to_string();
    assert!(e.contains("two migrations have number 0001"), "{e}");
}

#[test]
fn validate_accepts_a_consistent_chain_and_refuses_edits() {
    let ms = parse_all(Path::new("m"), &files()).expect("parses");
    let snap = snapshot_for(&ms);
    let states = validate(Path::new("m"), &ms, &snap).expect("valid");
    assert_eq!(states.len(), 3);
    assert!(states[2].table("users").unwrap().column("email").is_some());

    // An edit that keeps the file valid still breaks the hash chain.
    let mut fs = files();
    fs[1].1 = fs[1].1.replace("add email", "add e-mail");
    let edited = parse_all(Path::new("m"), &fs).expect("parses");
    let e = validate(Path::new("m"), &edited, &snap)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("m/0002_add_email.toml: this migration was edited after"),
        "{e}"
    );

    // A migration the snapshot does not know about.
    let e = validate(Path::new("m"), &ms[..1], &snap)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("written for migration 0002 but the newest migration is 0001"),
        "{e}"
    );

    // A file the snapshot does not list (e.g. added by hand or from another branch).
    let mut fs = files();
    fs.push(("0003_stray.toml".into(), add_email().to_text("x")));
    let more = parse_all(Path::new("m"), &fs).expect("parses");
    let e = validate(Path::new("m"), &more, &snap)
        .unwrap_err()
        .to_string();
    assert!(e.contains("0003_stray.toml"), "{e}");
}

#[test]
fn a_downgrade_that_does_not_restore_is_refused() {
    let mut f = add_email();
    // (An empty list is the inverse of the upgrade, see below.)
    f.downgrade = vec![Operation::CreateTable {
        table: Table::new("other"),
    }];
    let fs = vec![
        (
            "0001_create_users.toml".to_string(),
            create_users().to_text("t"),
        ),
        ("0002_add_email.toml".to_string(), f.to_text("t")),
    ];
    let ms = parse_all(Path::new("m"), &fs).expect("parses");
    let e = replay_states(Path::new("m"), &ms).unwrap_err().to_string();
    assert!(
        e.contains("0002_add_email.toml: downgrade does not restore"),
        "{e}"
    );
}

/// A chain of `n` migrations, each creating table `t_<i>`, as parsed files.
fn long_chain(n: usize) -> Vec<Migration> {
    let files: Vec<(String, String)> = (1..=n)
        .map(|i| {
            let mut t = Table::new(format!("t_{i}"));
            t.columns.push(Column::new("id", ColumnType::BigInt));
            let upgrade = vec![Operation::CreateTable { table: t }];
            let downgrade = downgrade_for(&upgrade);
            let file = MigrationFile::new(format!("t {i}"), upgrade, downgrade);
            (format!("{i:04}_t_{i}.toml"), file.to_text("test"))
        })
        .collect();
    parse_all(Path::new("m"), &files).expect("parses")
}

#[test]
fn lazy_states_equal_the_full_replay_in_any_order() {
    // More than two checkpoints, and a length that is not a multiple of
    // their spacing, so every branch of `state` and `with_state` is taken.
    let n = CHECKPOINT_EVERY * 2 + 7;
    let ms = long_chain(n);
    let full = replay_states(Path::new("m"), &ms).expect("replays");
    let loaded = {
        let (mut c, mut keep) = Checkpoints::collector(n);
        let snap = snapshot_for(&ms);
        check_chain(Path::new("m"), &ms, &snap, |i, s| keep(&mut c, i, s)).expect("valid");
        MigrationSet {
            states: OnceLock::from(c),
            ..MigrationSet::prevalidated("m".into(), ms.clone())
        }
    };
    let lazy = MigrationSet::prevalidated("m".into(), ms);
    for set in [&loaded, &lazy] {
        assert!(set.states().eq(full.iter().cloned()));
        assert_eq!(set.last_state(), &full[n]);
        // Forwards, backwards, and jumps longer than a checkpoint spacing.
        let order: Vec<usize> = (0..=n)
            .chain((0..=n).rev())
            .chain([3, n, 0, CHECKPOINT_EVERY + 1, 1, n - 1, CHECKPOINT_EVERY])
            .collect();
        for i in order {
            assert_eq!(set.state(i), full[i], "state {i}");
            assert!(set.with_state(i, |s| *s == full[i]), "with_state {i}");
        }
    }
}

#[test]
fn a_file_whose_fragments_are_more_than_sql_fragments_is_refused_at_its_line() {
    let mut c = Column::new("x", ColumnType::Custom("int".into()));
    c.nullable = true;
    let upgrade = vec![Operation::AddColumn {
        table: "acct".into(),
        column: c,
    }];
    let downgrade = downgrade_for(&upgrade);
    let text = MigrationFile::new("add x", upgrade, downgrade).to_text("test");
    let bad = text.replacen("sql:int", "sql:int, DROP COLUMN secret", 1);
    let e = parse_migration(Path::new("m"), "0002_add_x.toml", &bad).unwrap_err();
    let line = bad
        .lines()
        .position(|l| l.contains("DROP COLUMN secret"))
        .expect("payload line")
        + 1;
    let message = e.to_string();
    assert!(
        message.starts_with(&format!("m/0002_add_x.toml:{line}:")),
        "{message}"
    );
    assert!(
        message.contains(
            "upgrade step 1: table `acct`, column `x`: type `sql:int, DROP COLUMN secret` is not one SQL type at character 4: `,`"
        ),
        "{message}"
    );

    let backfill = "description = \"fill\"\n\n[[upgrade]]\nop = \"backfill\"\ntable = \"t\"\nset = \"a = 1\"\nwhere = \"a IS NULL\"\nreverse = { set = \"a = NULL\", where = \"true; DROP TABLE t\" }\n";
    let e = parse_migration(Path::new("m"), "0003_fill.toml", backfill).unwrap_err();
    assert_eq!(
        e.to_string(),
        "m/0003_fill.toml:8:39: upgrade step 1: backfill of `t`: `reverse.where` `true; DROP TABLE t` is not one condition at character 5: `;` would end the statement"
    );
    // Raw SQL is the author's declared effect and stays raw.
    let raw = "description = \"raw\"\n\n[[upgrade]]\nop = \"sql\"\nsql = \"UPDATE t SET a = 1; DELETE FROM u -- x\"\n";
    assert!(parse_migration(Path::new("m"), "0004_raw.toml", raw).is_ok());
}

/// `reverse = "SQL"` is short for `reverse = { sql = "SQL" }`; a table
/// keeps its field checks, and anything else says what is expected.
#[test]
fn a_raw_reverse_may_be_plain_text() {
    let head = "description = \"fill\"\n[[upgrade]]\nop = \"sql\"\nsql = \"INSERT INTO notes (title) VALUES ('hi')\"\n";
    let short = MigrationFile::parse(&format!("{head}reverse = \"DELETE FROM notes\"\n"))
        .expect("shorthand");
    let long = MigrationFile::parse(&format!(
        "{head}reverse = {{ sql = \"DELETE FROM notes\" }}\n"
    ))
    .expect("table");
    assert_eq!(short, long);
    let Operation::Sql(raw) = &short.upgrade[0] else {
        panic!("{short:?}")
    };
    assert_eq!(
        raw.reverse.as_ref().and_then(|r| r.sql.as_deref()),
        Some("DELETE FROM notes")
    );
    let (_, typo) = MigrationFile::parse(&format!("{head}reverse = {{ sqll = \"x\" }}\n"))
        .expect_err("unknown key");
    assert!(typo.contains("unknown field `sqll`"), "{typo}");
    let (_, number) = MigrationFile::parse(&format!("{head}reverse = 3\n")).expect_err("a number");
    assert!(number.contains("SQL text, or a table"), "{number}");
}

/// A file without `[[downgrade]]` is rolled back by the inverse of its
/// upgrade: typed steps by their opposites, a raw step by its `reverse`, one
/// without by nothing runnable (irreversible), never by an empty list.
#[test]
fn no_downgrade_list_means_the_inverse_of_the_upgrade() {
    let mut typed = add_email();
    typed.downgrade.clear();
    let raw = "description = \"seed\"\n[[upgrade]]\nop = \"sql\"\nsql = \"INSERT INTO users (id) VALUES (1)\"\nreverse = \"DELETE FROM users\"\n\n[[upgrade]]\nop = \"sql\"\nsql = \"UPDATE users SET id = 2\"\n";
    let fs = vec![
        (
            "0001_create_users.toml".to_string(),
            create_users().to_text("t"),
        ),
        ("0002_add_email.toml".to_string(), typed.to_text("t")),
        ("0003_seed.toml".to_string(), raw.to_string()),
    ];
    let ms = parse_all(Path::new("m"), &fs).expect("parses");
    assert_eq!(
        ms[1].file.downgrade,
        crate::ops::inverse_all(&add_email().upgrade)
    );
    replay_states(Path::new("m"), &ms).expect("the inverse restores the schema");
    let down = &ms[2].file.downgrade;
    assert_eq!(down.len(), 2);
    let Operation::Sql(first) = &down[0] else {
        panic!("{down:?}")
    };
    assert_eq!(
        first.sql, None,
        "the step without a reverse comes back first, with nothing to run"
    );
    let Operation::Sql(second) = &down[1] else {
        panic!("{down:?}")
    };
    assert_eq!(second.sql.as_deref(), Some("DELETE FROM users"));
}

/// An `archived` step in a file: one wrapping a kind it cannot keep, an
/// archive without the prefix (which introspection and `purge` would not
/// know as migrator's) and a `fill` that is more than an expression are
/// refused at their line, naming the step; a well-formed one round-trips.
#[test]
fn archived_steps_are_checked_when_read() {
    let step = "[upgrade.step]\nop = \"drop_column\"\ntable = \"t\"\n\n[upgrade.step.column]\nname = \"a\"\ntype = \"boolean\"\n";
    let file = |archive: &str, fill: &str, step: &str| {
        format!("description = \"drop a\"\n\n[[upgrade]]\nop = \"archived\"\narchive = \"{archive}\"\n{fill}\n{step}")
    };
    let good = file(
        "_migrator_archive_0002_t__a",
        "fill = { bool = false }",
        step,
    );
    let m = parse_migration(Path::new("m"), "0002_drop_a.toml", &good).expect("parses");
    assert!(
        matches!(&m.file.downgrade[..], [Operation::Archived(a)] if !a.is_drop() && a.fill.is_some())
    );
    let again = MigrationFile::parse(&m.file.to_text("x")).expect("round trip");
    assert_eq!(again.upgrade, m.file.upgrade);

    let e = parse_migration(
        Path::new("m"),
        "0002_drop_a.toml",
        &file("t_archive", "", step),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("m/0002_drop_a.toml:5:") && e.contains("upgrade step 1: archive table `t_archive` must be named `_migrator_archive_<something>`"),
        "{e}"
    );
    let e = parse_migration(
        Path::new("m"),
        "0002_drop_a.toml",
        &file(
            "_migrator_archive_x",
            "fill = { sql = \"0); DROP TABLE t; --\" }",
            step,
        ),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("upgrade step 1: archived step: `fill`"), "{e}");
    let index = "[upgrade.step]\nop = \"drop_index\"\ntable = \"t\"\n\n[upgrade.step.index]\nname = \"i\"\ncolumns = [\"a\"]\n";
    let e = parse_migration(
        Path::new("m"),
        "0002_drop_a.toml",
        &file("_migrator_archive_x", "", index),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains(
            "wraps `drop_column`, `drop_table`, `add_column` or `create_table`, not `drop_index`"
        ),
        "{e}"
    );
}

/// `lock_waits` is checked when the file is read: a bad schedule is
/// refused at its line, a good one kept as written.
#[test]
fn a_bad_lock_wait_schedule_is_refused_at_its_line() {
    let head = "description = \"x\"\nlock_timeout_ms = 2000\n";
    let tail = "\n[[upgrade]]\nop = \"sql\"\nsql = \"SELECT 1\"\nreverse = \"SELECT 1\"\n";
    let good = format!("{head}lock_waits = \"50ms*2,1s\"{tail}");
    let f = parse_migration(Path::new("m"), "0002_x.toml", &good).expect("a good schedule");
    assert_eq!(f.file.lock_waits.as_deref(), Some("50ms*2,1s"));
    let bad = format!("{head}lock_waits = \"50ms*0\"{tail}");
    let e = parse_migration(Path::new("m"), "0002_x.toml", &bad)
        .expect_err("a bad schedule")
        .to_string();
    assert!(e.starts_with("m/0002_x.toml:3:"), "{e}");
    assert!(
        e.contains("`50ms*0`: the count after `*` must be a whole number of at least 1"),
        "{e}"
    );
}

/// The states are the replay of the upgrades, exactly: a hand-written
/// downgrade that restores the columns in another order (equal, since
/// column order does not count) does not change the order of the next
/// state.
#[test]
fn the_states_keep_the_upgrades_column_order() {
    let mut users = Table::new("users");
    for c in ["id", "a", "b"] {
        users.columns.push(Column::new(c, ColumnType::BigInt));
    }
    users.primary_key = vec!["id".into()];
    let create = MigrationFile::new(
        "create users",
        vec![Operation::CreateTable { table: users }],
        vec![Operation::DropTable {
            table: Table::new("users"),
        }],
    );
    let create = MigrationFile {
        downgrade: downgrade_for(&create.upgrade),
        ..create
    };
    let d = Column::new("d", ColumnType::BigInt);
    let a = Column::new("a", ColumnType::BigInt);
    let drop = |c: &str| Operation::DropColumn {
        table: "users".into(),
        column: Column::new(c, ColumnType::BigInt),
    };
    let add_d = MigrationFile::new(
        "add d",
        vec![Operation::AddColumn {
            table: "users".into(),
            column: {
                let mut d = d.clone();
                d.nullable = true;
                d
            },
        }],
        // `a` comes back last: (id, b, a), equal to (id, a, b).
        vec![
            drop("d"),
            drop("a"),
            Operation::AddColumn {
                table: "users".into(),
                column: a,
            },
        ],
    );
    let ms: Vec<Migration> = [
        ("0001_create_users.toml", create),
        ("0002_add_d.toml", add_d),
    ]
    .into_iter()
    .map(|(name, f)| parse_migration(Path::new("m"), name, &f.to_text("t")).expect("parses"))
    .collect();
    let states = replay_states(Path::new("m"), &ms).expect("replays");
    let order: Vec<&str> = states[2].tables["users"]
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(order, ["id", "a", "b", "d"]);
}
