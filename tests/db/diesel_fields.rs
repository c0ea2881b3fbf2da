//! Model fields named otherwise than their columns, and stated diesel
//! types, in typed diesel queries: `migrator::schema!()` names every column
//! as its field (with the database's name in `#[sql_name]`), so the
//! structs below carry `#[model(column = "..")]` and no
//! `#[diesel(column_name)]`, on SQLite, PostgreSQL and MariaDB
//! (`tests/fixtures/diesel_fields`); and a PostgreSQL enum type reaches a
//! Rust enum through `#[model(diesel_type = "..")]`
//! (`tests/fixtures/pg_enum`). The fixtures' `src/models.rs` are these
//! structs as `migrator generate` read them; each test checks that the
//! derived tables equal the snapshot's.

use migrator_core::migration::MigrationSet;

fn migrations(fixture: &str) -> MigrationSet {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture)
        .join("migrations");
    MigrationSet::load(&dir).expect("the fixture's migrations load")
}

/// The models and the round trip, for one dialect's `schema` module in
/// scope, as a function `run(conn)`.
macro_rules! fields_round_trip {
    ($conn:ty) => {
        use diesel::prelude::*;
        use migrator::Model;

        #[derive(Model, Debug, Clone, PartialEq, Queryable, Selectable, Identifiable, AsChangeset)]
        #[model(table = "accounts")]
        #[diesel(table_name = schema::accounts, treat_none_as_null = true)]
        pub struct Account {
            #[model(primary_key, auto_increment, column = "account_id")]
            pub id: i64,
            #[model(column = "display_name", max_length = 50, unique)]
            pub name: String,
            #[model(max_length = 8, diesel_type = "diesel::sql_types::VarChar")]
            pub code: Option<String>,
        }

        #[derive(Model, Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
        #[model(table = "posts")]
        #[diesel(table_name = schema::posts)]
        pub struct Post {
            #[model(primary_key, auto_increment, column = "post_no")]
            pub id: i64,
            #[model(column = "author", foreign_key = "accounts.account_id", on_delete = "cascade")]
            pub author_id: i64,
            #[model(column = "text")]
            pub body: String,
            /// A keyword as the field's and the column's name: `r#type` in
            /// the `table!` too.
            #[model(max_length = 20, default = "note")]
            pub r#type: String,
        }

        #[derive(Debug, Insertable)]
        #[diesel(table_name = schema::accounts)]
        pub struct NewAccount<'a> {
            pub name: &'a str,
            pub code: Option<&'a str>,
        }

        #[derive(Debug, Insertable)]
        #[diesel(table_name = schema::posts)]
        pub struct NewPost<'a> {
            pub author_id: i64,
            pub body: &'a str,
        }

        pub fn run(conn: &mut $conn) {
            use schema::{accounts, posts};

            let m = super::migrations("diesel_fields");
            migrator_core::runner::Migrator::new(&m).up(conn).expect("up");
            let snapshot = m.last_state();
            assert_eq!(&Account::table(), snapshot.table("accounts").expect("accounts"));
            assert_eq!(&Post::table(), snapshot.table("posts").expect("posts"));

            diesel::insert_into(accounts::table)
                .values(&[
                    NewAccount { name: "ann", code: Some("A-1") },
                    NewAccount { name: "b\u{f6}b", code: None },
                ])
                .execute(conn)
                .expect("insert accounts");
            let all: Vec<Account> = accounts::table
                .order(accounts::id)
                .select(Account::as_select())
                .load(conn)
                .expect("accounts");
            assert_eq!(all.len(), 2);
            assert_eq!((all[0].name.as_str(), all[0].code.as_deref()), ("ann", Some("A-1")));
            assert_eq!((all[1].name.as_str(), all[1].code.as_deref()), ("b\u{f6}b", None));
            let (ann, bob) = (all[0].clone(), all[1].clone());

            diesel::insert_into(posts::table)
                .values(&[
                    NewPost { author_id: ann.id, body: "first" },
                    NewPost { author_id: bob.id, body: "second" },
                    NewPost { author_id: ann.id, body: "third" },
                ])
                .execute(conn)
                .expect("insert posts");

            // A join over the renamed foreign key (`joinable!` on the field).
            let anns: Vec<(Post, Account)> = posts::table
                .inner_join(accounts::table)
                .filter(accounts::name.eq("ann"))
                .order(posts::id)
                .select((Post::as_select(), Account::as_select()))
                .load(conn)
                .expect("join");
            assert_eq!(
                anns.iter().map(|(p, a)| (p.body.as_str(), a.id, p.r#type.as_str())).collect::<Vec<_>>(),
                [("first", ann.id, "note"), ("third", ann.id, "note")]
            );

            // Update through the changeset of the model and through a column.
            let renamed = Account { name: "anna".into(), code: None, ..ann.clone() };
            diesel::update(&renamed).set(&renamed).execute(conn).expect("update");
            diesel::update(posts::table.filter(posts::body.eq("second")))
                .set(posts::body.eq("2nd"))
                .execute(conn)
                .expect("update body");
            let back: Account = accounts::table
                .find(ann.id)
                .select(Account::as_select())
                .first(conn)
                .expect("find");
            assert_eq!(back, renamed);

            // The database has its own names: read them back with SQL.
            let n: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "(SELECT COUNT(*) FROM posts WHERE text = '2nd' AND author IN (SELECT account_id FROM accounts WHERE display_name = 'b\u{f6}b'))",
            ))
            .get_result(conn)
            .expect("count by the database's names");
            assert_eq!(n, 1);

            diesel::delete(accounts::table.filter(accounts::id.eq(ann.id)))
                .execute(conn)
                .expect("delete");
            let left: Vec<String> = posts::table
                .select(posts::body)
                .order(posts::id)
                .load(conn)
                .expect("left");
            assert_eq!(left, ["2nd"], "the cascade removed ann's posts");

            // The keyword column, by the field's raw name.
            diesel::update(posts::table)
                .set(posts::r#type.eq("draft"))
                .execute(conn)
                .expect("update type");
            let kinds: Vec<Post> = posts::table
                .filter(posts::r#type.eq("draft"))
                .select(Post::as_select())
                .load(conn)
                .expect("by type");
            assert_eq!(
                kinds.iter().map(|p| (p.body.as_str(), p.r#type.as_str())).collect::<Vec<_>>(),
                [("2nd", "draft")]
            );
        }
    };
}

mod sqlite {
    mod schema {
        migrator::schema!(path = "tests/fixtures/diesel_fields", dialect = "sqlite");
    }
    fields_round_trip!(diesel::sqlite::SqliteConnection);

    #[test]
    fn fields_named_otherwise_sqlite() {
        let dir = tempfile::tempdir().expect("tempdir");
        run(&mut crate::support::sqlite(dir.path()));
    }
}

mod postgres {
    mod schema {
        migrator::schema!(path = "tests/fixtures/diesel_fields", dialect = "postgres");
    }
    fields_round_trip!(diesel::pg::PgConnection);

    #[test]
    fn fields_named_otherwise_postgres() {
        let Some(base) = crate::support::pg_base_url() else {
            return;
        };
        let db = crate::support::PgDb::create(&base, "diesel_fields");
        run(&mut db.connect());
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    mod schema {
        migrator::schema!(path = "tests/fixtures/diesel_fields", dialect = "mysql");
    }
    fields_round_trip!(diesel::mysql::MysqlConnection);

    #[test]
    fn fields_named_otherwise_mysql() {
        let Some(base) = crate::support::mysql_base_url() else {
            return;
        };
        let db = crate::support::MyDb::create(&base, "diesel_fields");
        run(&mut db.connect());
    }
}

/// A PostgreSQL enum type, its diesel SQL type and the Rust enum, as
/// diesel's documentation for custom types has them; `diesel_type` on the
/// model fields names `MoodType` for the schema.
pub mod pg {
    use std::io::Write as _;

    use diesel::deserialize::{self, FromSql};
    use diesel::pg::{Pg, PgValue};
    use diesel::prelude::*;
    use diesel::serialize::{self, IsNull, Output, ToSql};
    use migrator::Model;

    mod schema {
        migrator::schema!(path = "tests/fixtures/pg_enum");
    }

    #[derive(Debug, diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
    #[diesel(postgres_type(name = "mood"))]
    pub struct MoodType;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
    #[diesel(sql_type = MoodType)]
    pub enum Mood {
        Sad,
        Ok,
        Happy,
    }

    impl ToSql<MoodType, Pg> for Mood {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
            out.write_all(match self {
                Mood::Sad => b"sad",
                Mood::Ok => b"ok",
                Mood::Happy => b"happy",
            })?;
            Ok(IsNull::No)
        }
    }

    impl FromSql<MoodType, Pg> for Mood {
        fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
            match bytes.as_bytes() {
                b"sad" => Ok(Mood::Sad),
                b"ok" => Ok(Mood::Ok),
                b"happy" => Ok(Mood::Happy),
                other => Err(format!("not a mood: {}", String::from_utf8_lossy(other)).into()),
            }
        }
    }

    #[derive(Model, Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
    #[model(table = "people")]
    #[diesel(table_name = schema::people, treat_none_as_null = true)]
    pub struct Person {
        #[model(primary_key, auto_increment)]
        pub id: i64,
        #[model(max_length = 40)]
        pub name: String,
        #[model(sql_type = "mood", diesel_type = "crate::diesel_fields::pg::MoodType")]
        pub mood: Mood,
        #[model(sql_type = "mood", diesel_type = "crate::diesel_fields::pg::MoodType")]
        pub was: Option<Mood>,
    }

    #[test]
    fn postgres_enum_through_diesel_type() {
        use schema::people;
        let Some(base) = crate::support::pg_base_url() else {
            return;
        };
        let db = crate::support::PgDb::create(&base, "pg_enum");
        let conn = &mut db.connect();
        let m = super::migrations("pg_enum");
        migrator_core::runner::Migrator::new(&m)
            .up(conn)
            .expect("up");
        assert_eq!(
            &Person::table(),
            m.last_state().table("people").expect("people")
        );

        let rows = [
            Person {
                id: 1,
                name: "ann".into(),
                mood: Mood::Happy,
                was: Some(Mood::Sad),
            },
            Person {
                id: 2,
                name: "bob".into(),
                mood: Mood::Ok,
                was: None,
            },
        ];
        diesel::insert_into(people::table)
            .values(&rows[..])
            .execute(conn)
            .expect("insert");
        let happy: Vec<Person> = people::table
            .filter(people::mood.eq(Mood::Happy))
            .select(Person::as_select())
            .load(conn)
            .expect("filter on the enum");
        assert_eq!(happy, [rows[0].clone()]);
        let changed = Person {
            mood: Mood::Sad,
            was: Some(Mood::Ok),
            ..rows[1].clone()
        };
        diesel::update(people::table.find(2))
            .set(&changed)
            .execute(conn)
            .expect("update");
        let all: Vec<Person> = people::table
            .order(people::id)
            .select(Person::as_select())
            .load(conn)
            .expect("all");
        assert_eq!(all, [rows[0].clone(), changed]);
        // The database holds the enum's labels, as its type orders them.
        let labels: Vec<String> = diesel::dsl::sql::<diesel::sql_types::Text>(
            "SELECT mood::text AS label FROM people ORDER BY people.mood",
        )
        .load(conn)
        .expect("labels");
        assert_eq!(labels, ["sad", "happy"]);
        diesel::delete(people::table.filter(people::was.is_null()))
            .execute(conn)
            .expect("delete");

        // Down drops the table, then the type (the raw step's reverse).
        migrator_core::runner::Migrator::new(&m)
            .down_to(conn, 0)
            .expect("down");
        let types: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT COUNT(*) FROM pg_type WHERE typname = 'mood')",
        ))
        .get_result(conn)
        .expect("pg_type");
        assert_eq!(types, 0);
    }
}
