//! Typed diesel queries over columns whose Rust type is not migrator's own
//! (`sql_type = ".."`): decimals (`bigdecimal::BigDecimal` on all three
//! databases, `rust_decimal::Decimal` where its crate binds diesel's
//! `Numeric`), a user enum kept as text whose values table checks limit,
//! and a newtype over `i64`, on SQLite, PostgreSQL and MariaDB (the
//! `ledger` table of `tests/fixtures/diesel_types`); and PostgreSQL arrays
//! (`tests/fixtures/pg_arrays`, a project on PostgreSQL alone). Each value
//! must come back exactly, except what SQLite cannot hold (a decimal there
//! is a float), which is checked to come back as that float.

use std::str::FromStr;

use bigdecimal::BigDecimal;
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{BigInt, Text};
use migrator_core::migration::MigrationSet;

fn migrations(fixture: &str) -> MigrationSet {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture)
        .join("migrations");
    MigrationSet::load(&dir).expect("the fixture's migrations load")
}

fn dec(s: &str) -> BigDecimal {
    BigDecimal::from_str(s).expect("a decimal")
}

/// The recipe of the README ("Querying with diesel"): a Rust enum stored
/// as text, read and written through diesel's `Text` on every backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum Priority {
    Low,
    High,
}

impl<DB: Backend> ToSql<Text, DB> for Priority
where
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        let text = match self {
            Priority::Low => "low",
            Priority::High => "high",
        };
        text.to_sql(out)
    }
}

impl<DB: Backend> FromSql<Text, DB> for Priority
where
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        match String::from_sql(bytes)?.as_str() {
            "low" => Ok(Priority::Low),
            "high" => Ok(Priority::High),
            other => Err(format!("unknown priority `{other}`").into()),
        }
    }
}

/// A newtype over `i64`, a `BIGINT` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = BigInt)]
pub struct Cents(pub i64);

impl<DB: Backend> ToSql<BigInt, DB> for Cents
where
    i64: ToSql<BigInt, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        self.0.to_sql(out)
    }
}

impl<DB: Backend> FromSql<BigInt, DB> for Cents
where
    i64: FromSql<BigInt, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        i64::from_sql(bytes).map(Cents)
    }
}

/// The `ledger` model for one dialect's `schema` module in scope; `$exact`
/// is the Rust type of its `NUMERIC(28, 6)` column there.
macro_rules! ledger {
    ($exact:ty) => {
        use diesel::prelude::*;
        use migrator::Model;

        use super::{Cents, Priority};

        #[derive(
            Model,
            Debug,
            Clone,
            PartialEq,
            Queryable,
            Selectable,
            Identifiable,
            Insertable,
            AsChangeset,
        )]
        #[model(
            table = "ledger",
            check = "priority IN ('low', 'high')",
            check = "maybe_priority IN ('low', 'high')"
        )]
        #[diesel(table_name = schema::ledger, treat_none_as_null = true)]
        pub struct Ledger {
            #[model(primary_key)]
            pub id: i64,
            #[model(sql_type = "NUMERIC(12, 2)")]
            pub price: bigdecimal::BigDecimal,
            #[model(sql_type = "NUMERIC(12, 2)")]
            pub maybe_price: Option<bigdecimal::BigDecimal>,
            #[model(sql_type = "NUMERIC(30, 10)")]
            pub precise: bigdecimal::BigDecimal,
            #[model(sql_type = "NUMERIC(28, 6)")]
            pub exact: $exact,
            #[model(sql_type = "VARCHAR(10)")]
            pub priority: Priority,
            #[model(sql_type = "VARCHAR(10)")]
            pub maybe_priority: Option<Priority>,
            #[model(sql_type = "BIGINT")]
            pub cents: Cents,
            #[model(sql_type = "BIGINT")]
            pub maybe_cents: Option<Cents>,
        }

        /// Applies the fixture, writes `rows` (two), reads them back, filters
        /// on the enum and the newtype, updates through the model, and
        /// checks that the table's check refuses a value no variant has.
        pub fn run(conn: &mut Conn, rows: [Ledger; 2]) {
            use diesel::RunQueryDsl;
            use schema::ledger;

            let m = super::migrations("diesel_types");
            migrator_core::runner::Migrator::new(&m)
                .up(conn)
                .expect("up");
            assert_eq!(
                &Ledger::table(),
                m.last_state().table("ledger").expect("ledger")
            );
            diesel::insert_into(ledger::table)
                .values(&rows.to_vec())
                .execute(conn)
                .expect("insert ledger");
            let back: Vec<Ledger> = ledger::table
                .order(ledger::id)
                .select(Ledger::as_select())
                .load(conn)
                .expect("select ledger");
            assert_eq!(back, rows);

            let high: Vec<i64> = ledger::table
                .filter(ledger::priority.eq(Priority::High))
                .select(ledger::id)
                .load(conn)
                .expect("filter on the enum");
            assert_eq!(high, [1]);
            let hit: Ledger = ledger::table
                .filter(ledger::cents.eq(Cents(i64::MIN)))
                .filter(ledger::maybe_priority.is_null())
                .select(Ledger::as_select())
                .first(conn)
                .expect("filter on the newtype");
            assert_eq!(hit, rows[1]);

            let mut changed = rows[0].clone();
            changed.priority = Priority::Low;
            changed.maybe_priority = None;
            changed.maybe_price = None;
            changed.maybe_cents = Some(Cents(0));
            diesel::update(&changed)
                .set(&changed)
                .execute(conn)
                .expect("update");
            let back: Ledger = ledger::table
                .find(1)
                .select(Ledger::as_select())
                .first(conn)
                .expect("after update");
            assert_eq!(back, changed);

            // The checks hold the columns to the enum's values: the same
            // insert passes with a variant's text and fails with another.
            let mut insert = |priority: &str, maybe: &str| {
                diesel::sql_query(format!(
                    "INSERT INTO ledger (id, price, precise, exact, priority, maybe_priority, cents) \
                     VALUES (3, 1, 1, 1, '{priority}', '{maybe}', 1)"
                ))
                .execute(conn)
            };
            assert!(insert("urgent", "low").is_err(), "priority = 'urgent'");
            assert!(insert("low", "urgent").is_err(), "maybe_priority = 'urgent'");
            assert_eq!(insert("high", "low"), Ok(1));
            let third: (Priority, Option<Priority>) = ledger::table
                .find(3)
                .select((ledger::priority, ledger::maybe_priority))
                .first(conn)
                .expect("the row written as text");
            assert_eq!(third, (Priority::High, Some(Priority::Low)));
        }
    };
}

mod sqlite {
    mod schema {
        migrator::schema!(path = "tests/fixtures/diesel_types", dialect = "sqlite");
    }
    type Conn = diesel::sqlite::SqliteConnection;
    // rust_decimal binds diesel's `Numeric` on PostgreSQL and MySQL only.
    ledger!(bigdecimal::BigDecimal);

    /// SQLite keeps a NUMERIC value as an integer or a float, and diesel
    /// binds `BigDecimal` there through an `f64`: integers up to 2^53 and
    /// binary fractions come back exactly; anything else comes back as the
    /// float nearest to it.
    #[test]
    fn ledger_round_trip_sqlite() {
        use super::dec;
        let dir = tempfile::tempdir().expect("tempdir");
        let mut conn = crate::support::sqlite(dir.path());
        run(
            &mut conn,
            [
                Ledger {
                    id: 1,
                    price: dec("1234567.5"),
                    maybe_price: Some(dec("-0.25")),
                    precise: dec("9007199254740992"),
                    exact: dec("-123456.125"),
                    priority: Priority::High,
                    maybe_priority: Some(Priority::Low),
                    cents: Cents(i64::MAX),
                    maybe_cents: Some(Cents(-1)),
                },
                Ledger {
                    id: 2,
                    price: dec("0"),
                    maybe_price: None,
                    precise: dec("-0.0078125"),
                    exact: dec("1"),
                    priority: Priority::Low,
                    maybe_priority: None,
                    cents: Cents(i64::MIN),
                    maybe_cents: None,
                },
            ],
        );
        use diesel::prelude::*;
        use schema::ledger;
        diesel::update(ledger::table.find(2))
            .set(ledger::price.eq(dec("0.01")))
            .execute(&mut conn)
            .expect("a cent");
        let back: bigdecimal::BigDecimal = ledger::table
            .find(2)
            .select(ledger::price)
            .first(&mut conn)
            .expect("the cent");
        assert_ne!(back, dec("0.01"));
        assert_eq!(
            back,
            bigdecimal::BigDecimal::try_from(0.01f64).expect("f64")
        );
    }
}

/// The rows of PostgreSQL and MySQL, where every digit is kept.
macro_rules! exact_rows {
    () => {
        [
            Ledger {
                id: 1,
                price: super::dec("9999999999.99"),
                maybe_price: Some(super::dec("-0.01")),
                precise: super::dec("12345678901234567890.0123456789"),
                exact: "9999999999999999999999.999999".parse().expect("Decimal"),
                priority: Priority::High,
                maybe_priority: Some(Priority::Low),
                cents: Cents(i64::MAX),
                maybe_cents: Some(Cents(-1)),
            },
            Ledger {
                id: 2,
                price: super::dec("-9999999999.99"),
                maybe_price: None,
                precise: super::dec("-0.0000000001"),
                exact: "-0.000001".parse().expect("Decimal"),
                priority: Priority::Low,
                maybe_priority: None,
                cents: Cents(i64::MIN),
                maybe_cents: None,
            },
        ]
    };
}

mod postgres {
    mod schema {
        migrator::schema!(path = "tests/fixtures/diesel_types", dialect = "postgres");
    }
    type Conn = diesel::pg::PgConnection;
    ledger!(rust_decimal::Decimal);

    #[test]
    fn ledger_round_trip_postgres() {
        let Some(base) = crate::support::pg_base_url() else {
            return;
        };
        let db = crate::support::PgDb::create(&base, "ledger");
        run(&mut db.connect(), exact_rows!());
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    mod schema {
        migrator::schema!(path = "tests/fixtures/diesel_types", dialect = "mysql");
    }
    type Conn = diesel::mysql::MysqlConnection;
    ledger!(rust_decimal::Decimal);

    #[test]
    fn ledger_round_trip_mysql() {
        let Some(base) = crate::support::mysql_base_url() else {
            return;
        };
        let db = crate::support::MyDb::create(&base, "ledger");
        run(&mut db.connect(), exact_rows!());
    }
}

/// PostgreSQL arrays: `Vec<T>` is diesel's `Array<T>`, and elements that
/// may be NULL (`Vec<Option<T>>`) take the stated `Array<Nullable<T>>`.
mod pg_arrays {
    use diesel::prelude::*;
    use migrator::Model;

    mod schema {
        migrator::schema!(path = "tests/fixtures/pg_arrays");
    }
    use schema::posts;

    #[derive(
        Model, Debug, Clone, PartialEq, Queryable, Selectable, Identifiable, Insertable, AsChangeset,
    )]
    #[model(table = "posts")]
    #[diesel(table_name = posts, treat_none_as_null = true)]
    pub struct Post {
        #[model(primary_key, auto_increment)]
        pub id: i64,
        #[model(sql_type = "TEXT[]")]
        pub tags: Vec<String>,
        #[model(sql_type = "INTEGER[]")]
        pub scores: Vec<i32>,
        #[model(sql_type = "BIGINT[]")]
        pub maybe_ids: Option<Vec<i64>>,
        #[model(sql_type = "NUMERIC(12, 2)[]")]
        pub prices: Vec<bigdecimal::BigDecimal>,
        #[model(sql_type = "TEXT[]")]
        pub notes: Vec<Option<String>>,
    }

    #[test]
    fn array_round_trip_postgres() {
        use super::dec;
        let Some(base) = crate::support::pg_base_url() else {
            return;
        };
        let db = crate::support::PgDb::create(&base, "arrays");
        let conn = &mut db.connect();
        let m = super::migrations("pg_arrays");
        migrator_core::runner::Migrator::new(&m)
            .up(conn)
            .expect("up");
        assert_eq!(
            &Post::table(),
            m.last_state().table("posts").expect("posts")
        );
        let full = Post {
            id: 1,
            tags: vec![
                "h\u{e9}llo \u{2603}".into(),
                String::new(),
                "'q' \"dq\" \\ {a,b} NULL".into(),
                "\u{1f980}".into(),
            ],
            scores: vec![i32::MIN, 0, i32::MAX],
            maybe_ids: Some(vec![i64::MAX, -1]),
            prices: vec![dec("9999999999.99"), dec("-0.01"), dec("0")],
            notes: vec![Some("first".into()), None, Some(String::new()), None],
        };
        let empty = Post {
            id: 2,
            tags: Vec::new(),
            scores: Vec::new(),
            maybe_ids: None,
            prices: Vec::new(),
            notes: Vec::new(),
        };
        let nulls_only = Post {
            id: 3,
            maybe_ids: Some(Vec::new()),
            notes: vec![None],
            ..empty.clone()
        };
        let rows = vec![full.clone(), empty.clone(), nulls_only.clone()];
        diesel::insert_into(posts::table)
            .values(&rows)
            .execute(conn)
            .expect("insert posts");
        let back: Vec<Post> = posts::table
            .order(posts::id)
            .select(Post::as_select())
            .load(conn)
            .expect("select posts");
        assert_eq!(back, rows);

        // diesel's array operators over the `table!` types.
        let tagged: Vec<i64> = posts::table
            .filter(posts::tags.contains(vec!["\u{1f980}".to_string()]))
            .select(posts::id)
            .load(conn)
            .expect("contains");
        assert_eq!(tagged, [1]);
        let with_scores: Vec<i64> = posts::table
            .filter(posts::scores.overlaps_with(vec![0, 7]))
            .select(posts::id)
            .load(conn)
            .expect("overlaps");
        assert_eq!(with_scores, [1]);

        // Update: an array emptied, another set to NULL, elements made NULL.
        let mut changed = full.clone();
        changed.tags.clear();
        changed.maybe_ids = None;
        changed.notes = vec![None, Some("\u{65e5}\u{672c}".into())];
        diesel::update(&changed)
            .set(&changed)
            .execute(conn)
            .expect("update");
        let back: Post = posts::table
            .find(1)
            .select(Post::as_select())
            .first(conn)
            .expect("after update");
        assert_eq!(back, changed);
    }
}
