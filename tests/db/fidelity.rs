//! Changes that must keep what the model does not describe, on the
//! database whose DDL would otherwise drop it.

use diesel::connection::SimpleConnection;
use migrator_core::runner::Migrator;

use super::support::TestProject;

const ITEMS_V1: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "items")]
pub struct Item {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 80)]
    pub name: String,
    #[model(max_length = 200, index)]
    pub tags: String,
    pub qty: i64,
}
"#;

/// Drops `tags` (and its modelled index).
const ITEMS_V2: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "items")]
pub struct Item {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 80)]
    pub name: String,
    pub qty: i64,
}
"#;

fn items_project() -> TestProject {
    let p = TestProject::new();
    p.set_models(ITEMS_V1);
    p.generate("create").expect("a change");
    p.set_models(ITEMS_V2);
    p.generate("drop_tags").expect("a change");
    p
}

/// Dropping a column that objects outside the model use is refused before
/// anything changes, naming each of them; once they are gone the same
/// migration applies. `extras` creates them, `control` creates an object
/// over other columns that must not be reported, `cleanup` removes the
/// dependents, `count` reads one number.
fn drop_column_names_dependents<
    C: migrator_core::runner::MigrationConnection + SimpleConnection,
>(
    c: &mut C,
    extras: &str,
    control: &str,
    named: &[&str],
    cleanup: &str,
    count: impl Fn(&mut C, &str) -> String,
) {
    let p = items_project();
    let set = p.set();
    Migrator::new(&set).up_to(c, Some(1)).expect("0001 applies");
    c.batch_execute("INSERT INTO items (name, tags, qty) VALUES ('a', 'x y', 1), ('b', 'z', 2)")
        .expect("rows");
    c.batch_execute(extras).expect("dependents");
    c.batch_execute(control).expect("control");
    let err = Migrator::new(&set)
        .up(c)
        .expect_err("dependents refuse the drop");
    let msg = err.to_string();
    assert!(msg.contains("refused before changing anything"), "{msg}");
    for n in named {
        assert!(msg.contains(n), "`{n}` not named in: {msg}");
    }
    assert!(
        !msg.contains("item_names"),
        "the control view is not a dependent: {msg}"
    );
    assert_eq!(
        count(c, "SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'tags'"),
        "1",
        "the column is still there"
    );
    c.batch_execute(cleanup).expect("cleanup");
    Migrator::new(&set)
        .up(c)
        .expect("0002 applies without its dependents");
    assert_eq!(
        count(c, "SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'tags'"),
        "0"
    );
    assert_eq!(count(c, "SELECT COUNT(*) FROM item_names"), "2");
}

/// PostgreSQL drops indexes over a column with it, silently: a GIN
/// expression index and a partial index outside the model are named and
/// the drop refused.
pub fn pg_drop_column_names_dependents(c: &mut diesel::pg::PgConnection) {
    drop_column_names_dependents(
        c,
        "CREATE INDEX items_tags_fts ON items USING gin (to_tsvector('simple', tags)); \
         CREATE INDEX items_tagged_qty ON items (qty) WHERE tags <> ''; \
         CREATE STATISTICS items_tags_stats (dependencies) ON tags, qty FROM items",
        "CREATE VIEW item_names AS SELECT id, name FROM items",
        &[
            "index items_tags_fts",
            "index items_tagged_qty",
            "statistics items_tags_stats",
        ],
        "DROP INDEX items_tags_fts; DROP INDEX items_tagged_qty; DROP STATISTICS items_tags_stats",
        |c, q| {
            super::support::rows_pg(
                c,
                &format!("SELECT ({q})::text AS a, '' AS b, '' AS c, '' AS d"),
            )
            .remove(0)
            .a
        },
    );
}

#[cfg(feature = "mysql")]
const ACCOUNTS_V1: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "accounts")]
pub struct Account {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 50)]
    pub password: String,
    #[model(default_sql = "CURRENT_TIMESTAMP(6)")]
    pub updated_at: chrono::DateTime<chrono::Utc>,
    #[model(max_length = 20)]
    pub note: Option<String>,
}
"#;

/// Widens `password` and `note`, makes `updated_at` nullable: three
/// `MODIFY COLUMN`s.
#[cfg(feature = "mysql")]
const ACCOUNTS_V2: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "accounts")]
pub struct Account {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 100)]
    pub password: String,
    #[model(default_sql = "CURRENT_TIMESTAMP(6)")]
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
    #[model(max_length = 40)]
    pub note: Option<String>,
}
"#;

#[cfg(feature = "mysql")]
/// MySQL/MariaDB leave views and triggers that name a dropped column
/// broken: they are named and the drop refused.
pub fn mysql_drop_column_names_dependents(c: &mut diesel::mysql::MysqlConnection) {
    drop_column_names_dependents(
        c,
        "CREATE VIEW item_tags AS SELECT id, tags FROM items; \
         CREATE TRIGGER items_lower_tags BEFORE INSERT ON items FOR EACH ROW SET NEW.tags = LOWER(NEW.tags); \
         CREATE INDEX items_tags_prefix ON items (tags(10), qty)",
        "CREATE VIEW item_names AS SELECT id, name FROM items",
        &["view item_tags", "trigger items_lower_tags", "index items_tags_prefix"],
        "DROP VIEW item_tags; DROP TRIGGER items_lower_tags; DROP INDEX items_tags_prefix ON items",
        |c, q| {
            super::support::rows_mysql(
                c,
                &format!("SELECT CAST(({}) AS CHAR) AS a, '' AS b, '' AS c, '' AS d", q.replace("table_name =", "table_schema = DATABASE() AND table_name =")),
            )
            .remove(0)
            .a
        },
    );
}

#[cfg(feature = "mysql")]
/// `COLUMN_NAME|COLLATION_NAME|EXTRA|COLUMN_COMMENT|COLUMN_TYPE` of each
/// column of `accounts`, in name order.
fn attributes(c: &mut diesel::mysql::MysqlConnection) -> Vec<String> {
    super::support::rows_mysql(
        c,
        "SELECT CAST(CONCAT_WS('|', column_name, COALESCE(collation_name, '-'), LOWER(extra), column_comment) AS CHAR) AS a, CAST(column_type AS CHAR) AS b, CAST(is_nullable AS CHAR) AS c, '' AS d FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'accounts' ORDER BY column_name",
    )
    .into_iter()
    .map(|r| format!("{} {} {}", r.a, r.b, r.c))
    .collect()
}

#[cfg(feature = "mysql")]
/// MySQL/MariaDB `MODIFY COLUMN` keeps the live column's collation, its
/// `ON UPDATE` and its comment, which the model does not carry, up and
/// down, with the rows intact.
pub fn mysql_modify_keeps_column_attributes(c: &mut diesel::mysql::MysqlConnection) {
    let p = TestProject::new();
    p.set_models(ACCOUNTS_V1);
    p.generate("create").expect("a change");
    p.set_models(ACCOUNTS_V2);
    p.generate("widen").expect("a change");
    let set = p.set();
    Migrator::new(&set).up_to(c, Some(1)).expect("0001 applies");
    // What an application's own DDL (or an adopted schema) put there.
    c.batch_execute(
        "ALTER TABLE accounts MODIFY COLUMN password VARCHAR(50) CHARACTER SET utf8mb3 COLLATE utf8mb3_bin NOT NULL, \
         MODIFY COLUMN updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), \
         MODIFY COLUMN note VARCHAR(20) NULL COMMENT 'shown to support, it''s \"free\" text'; \
         INSERT INTO accounts (password, note) VALUES ('Secret', 'n1')",
    )
    .expect("hand-made attributes");
    let before = attributes(c);
    assert!(
        before.iter().any(|a| a.starts_with("password|utf8mb3_bin")),
        "{before:?}"
    );
    Migrator::new(&set).up(c).expect("0002 applies");
    let after = attributes(c);
    let expect = |list: &[String], prefix: &str, ty: &str| {
        assert!(
            list.iter().any(|a| a.starts_with(prefix) && a.contains(ty)),
            "`{prefix}` with `{ty}` expected in {list:?}"
        );
    };
    expect(&after, "password|utf8mb3_bin||", "varchar(100)");
    expect(&after, "updated_at|-|on update current_timestamp(6)", "YES");
    expect(
        &after,
        "note|utf8mb4_",
        "|shown to support, it's \"free\" text varchar(40)",
    );
    // Still case-sensitive: a second row differing only in case is a
    // different password.
    let n: Vec<_> = super::support::rows_mysql(
        c,
        "SELECT CAST(COUNT(*) AS CHAR) AS a, '' AS b, '' AS c, '' AS d FROM accounts WHERE password = 'secret'",
    );
    assert_eq!(n[0].a, "0", "utf8mb3_bin compares case-sensitively");

    Migrator::new(&set).down_to(c, 1).expect("0002 reverts");
    let down = attributes(c);
    expect(&down, "password|utf8mb3_bin||", "varchar(50)");
    expect(&down, "updated_at|-|on update current_timestamp(6)", "NO");
    expect(
        &down,
        "note|utf8mb4_",
        "|shown to support, it's \"free\" text varchar(20)",
    );
    let rows = super::support::rows_mysql(
        c,
        "SELECT CAST(password AS CHAR) AS a, CAST(note AS CHAR) AS b, '' AS c, '' AS d FROM accounts",
    );
    assert_eq!((rows[0].a.as_str(), rows[0].b.as_str()), ("Secret", "n1"));
}

const STOCK_V1: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "stock", check = "qty >= 0 AND qty < 1000")]
pub struct Stock {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    pub qty: i64,
}
"#;

const STOCK_V2: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "stock", check = "quantity >= 0 AND quantity < 1000")]
pub struct Stock {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(renamed_from = "qty")]
    pub quantity: i64,
}
"#;

/// A renamed column's check follows it: the migration is the rename alone
/// (the databases rewrite the stored check), the snapshot says the check
/// with the new name, `verify` is clean after up and after down, and the
/// check still refuses a bad row on every database (on SQLite a check left
/// naming `"qty"` would read it as a string and accept everything).
pub fn renamed_column_keeps_its_check<C>(c: &mut C)
where
    C: migrator_core::runner::MigrationConnection + migrator_core::introspect::Introspect,
{
    use migrator_core::ops::Operation;
    let p = TestProject::new();
    p.set_models(STOCK_V1);
    p.generate("create").expect("a change");
    p.set_models(STOCK_V2);
    let g = p.generate("rename_qty").expect("a change");
    let ops: Vec<String> = g.plan.upgrade.iter().map(|o| o.to_string()).collect();
    assert!(
        matches!(g.plan.upgrade.as_slice(), [Operation::RenameColumn { .. }]),
        "the rename alone: {ops:?}"
    );
    assert!(
        p.generate("again").is_none(),
        "the models match the snapshot after the rename"
    );
    let set = p.set();
    let clean = |c: &mut C, v: u32| {
        let schema = set.state(v as usize);
        let report = migrator_core::introspect::verify(c, &schema).expect("verify");
        let drift: Vec<String> = report.drift.iter().map(|d| d.to_string()).collect();
        assert!(drift.is_empty(), "after {v}: {drift:?}");
    };
    Migrator::new(&set).up(c).expect("applies");
    clean(c, 2);
    c.execute("INSERT INTO stock (quantity) VALUES (5)")
        .expect("a good row");
    assert!(
        c.execute("INSERT INTO stock (quantity) VALUES (-1)")
            .is_err(),
        "the check still holds after the rename"
    );
    Migrator::new(&set).down_to(c, 1).expect("reverts");
    clean(c, 1);
    assert!(
        c.execute("INSERT INTO stock (qty) VALUES (-1)").is_err(),
        "the check still holds after the downgrade"
    );
}

/// Four indexes whose default names (`idx_<table>_<column>`) share their
/// first 63 bytes: PostgreSQL would cut them to one name, MySQL would
/// refuse them mid-migration.
const LONG_NAMES: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "customer_subscription_billing_history_entries")]
pub struct Entry {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(index)]
    pub a_rather_long_column_name_for_the_amount_a: i64,
    #[model(index)]
    pub a_rather_long_column_name_for_the_amount_b: i64,
    #[model(index)]
    pub a_rather_long_column_name_for_the_amount_c: i64,
    #[model(index)]
    pub a_rather_long_column_name_for_the_amount_d: i64,
}
"#;

/// Default names that would exceed the identifier limit are cut with a
/// hash of the whole name: four distinct indexes of at most 63 bytes, all
/// created, `verify` clean, and the downgrade drops all four. `indexes`
/// counts the table's secondary indexes by a catalog query of its own.
pub fn long_default_names_stay_distinct<C>(c: &mut C, indexes: impl Fn(&mut C) -> usize)
where
    C: migrator_core::runner::MigrationConnection + migrator_core::introspect::Introspect,
{
    let p = TestProject::new();
    p.set_models(LONG_NAMES);
    p.generate("create").expect("a change");
    let set = p.set();
    let names: Vec<String> = set.state(1).tables["customer_subscription_billing_history_entries"]
        .indexes
        .iter()
        .map(|i| i.name.clone())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
    for n in &names {
        assert!(n.len() <= 63, "{n} fits every database");
    }
    Migrator::new(&set).up(c).expect("applies");
    assert_eq!(indexes(c), 4, "four indexes, none skipped as existing");
    let report = migrator_core::introspect::verify(c, &set.state(1)).expect("verify");
    let drift: Vec<String> = report.drift.iter().map(|d| d.to_string()).collect();
    assert!(drift.is_empty(), "{drift:?}");
    // Applying again (each index guarded by its name) changes nothing.
    Migrator::new(&set).up(c).expect("nothing to do");
    Migrator::new(&set).down_to(c, 0).expect("reverts");
    Migrator::new(&set).up(c).expect("applies again");
    assert_eq!(indexes(c), 4);
}
