//! Integration tests of the runner on real databases: SQLite always,
//! PostgreSQL and MySQL/MariaDB (feature `mysql`) wherever they are
//! reachable (mandatory under CI=true).

#[path = "db/backfill.rs"]
mod backfill;
#[path = "db/checks.rs"]
mod checks;
#[path = "db/diesel_custom_types.rs"]
mod diesel_custom_types;
#[path = "db/diesel_fields.rs"]
mod diesel_fields;
#[path = "db/diesel_queries.rs"]
mod diesel_queries;
#[path = "db/fidelity.rs"]
mod fidelity;
#[path = "db/introspect.rs"]
mod introspection;
#[path = "db/keep.rs"]
mod keep;
#[path = "db/models.rs"]
mod models;
#[path = "db/not_null.rs"]
mod not_null;
#[cfg(feature = "mysql")]
#[path = "db/online_fk.rs"]
mod online_fk;
#[path = "db/rebuild.rs"]
mod rebuild;
#[path = "db/references.rs"]
mod references;
#[path = "db/replica_lag.rs"]
mod replica_lag;
#[path = "db/resolve.rs"]
mod resolve;
#[path = "db/scenario.rs"]
mod scenario;
#[path = "db/support.rs"]
mod support;
#[path = "db/zero_downtime.rs"]
mod zero_downtime;

/// The scenarios every database runs, as `#[test]`s of the module that
/// invokes it; that module defines `with_db(tag, f)`, which hands `f` a
/// connection to a fresh database (`tag` names it where databases have
/// names) or returns when the server is unreachable outside CI.
macro_rules! common_scenarios {
    () => {
        #[test]
        fn seed_scenario() {
            with_db("seed", scenario::run);
        }

        #[test]
        fn drops_keep_their_data() {
            with_db("keep", keep::drops_keep_their_data);
        }

        #[test]
        fn not_null_without_default_gets_a_placeholder_backfill() {
            with_db("nullfill", not_null::placeholder_backfill_until_filled);
        }

        #[test]
        fn not_null_with_nulls_is_refused_before_anything_changes() {
            with_db("nulls", not_null::nulls_refuse_before_anything_changes);
        }

        #[test]
        fn orphans_refuse_a_new_foreign_key_before_anything_changes() {
            with_db(
                "orphans",
                references::orphans_refuse_a_new_foreign_key_before_anything_changes,
            );
        }

        #[test]
        fn not_null_is_backfilled_with_the_default() {
            with_db("nullfill", not_null::generate_backfills_with_the_default);
        }

        #[test]
        fn a_new_check_touches_no_other() {
            with_db("checks", checks::a_new_check_touches_no_other);
        }

        #[test]
        fn partial_migrations_are_resolved() {
            with_db("resolve", resolve::partial_migrations_are_resolved);
        }

        #[test]
        fn edited_history_is_refused() {
            with_db("edited", scenario::edited_history);
        }

        #[test]
        fn missing_file_is_refused() {
            with_db("missing", scenario::missing_file);
        }

        #[test]
        fn failure_rolls_back() {
            with_db("failure", scenario::failure_rolls_back);
        }

        #[test]
        fn interrupted_migration_resumes() {
            with_db("resume", scenario::interrupted_migration_resumes);
        }

        #[test]
        fn backfill_every_row_once() {
            with_db("backfill", backfill::every_row_once);
        }

        #[test]
        fn backfill_composite_key() {
            with_db("backfillpk", backfill::composite_key);
        }

        #[test]
        fn backfill_interrupted_resumes() {
            with_db("backfillresume", backfill::interrupted_backfill_resumes);
        }

        #[test]
        fn finished_but_unrecorded_backfill_is_not_repeated() {
            with_db(
                "backfilldone",
                backfill::finished_but_unrecorded_backfill_is_not_repeated,
            );
        }
    };
}

mod sqlite {
    use super::{
        backfill, checks, introspection, keep, not_null, rebuild, references, resolve, scenario,
        support,
    };

    common_scenarios!();

    #[test]
    fn the_replica_bound_is_refused() {
        super::replica_lag::sqlite_refuses_the_replica_bound();
    }

    #[test]
    fn long_backfill_keeps_the_lock_row() {
        use diesel::Connection;
        let (d, mut c) = db();
        let path = d.path().join("test.db").display().to_string();
        let mut other = diesel::sqlite::SqliteConnection::establish(&path).expect("opens");
        backfill::long_backfill_keeps_the_lock_row(&mut c, &mut other);
    }

    #[test]
    fn broken_backfill_changes_nothing() {
        let (_d, mut c) = db();
        backfill::broken_backfill_changes_nothing(&mut c);
    }

    #[test]
    fn commit_groups() {
        scenario::commit_groups(&db);
    }

    fn db() -> (tempfile::TempDir, diesel::sqlite::SqliteConnection) {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = support::sqlite(dir.path());
        (dir, conn)
    }

    fn with_db(_tag: &str, f: impl FnOnce(&mut diesel::sqlite::SqliteConnection)) {
        let (_d, mut c) = db();
        f(&mut c);
    }

    #[test]
    fn rebuild_keeps_triggers_and_views() {
        let (_d, mut c) = db();
        rebuild::triggers_and_views_survive(&mut c);
    }

    #[test]
    fn failed_rebuild_keeps_triggers() {
        let (_d, mut c) = db();
        rebuild::failed_rebuild_keeps_triggers(&mut c);
    }

    #[test]
    fn rebuild_keeps_indexes_outside_the_model() {
        let (_d, mut c) = db();
        rebuild::indexes_outside_the_model_survive(&mut c);
    }

    #[test]
    fn rebuild_refuses_what_it_would_lose() {
        let (_d, mut c) = db();
        rebuild::rebuild_refuses_what_it_would_lose(&mut c);
    }

    #[test]
    fn renamed_column_keeps_its_check() {
        let (_d, mut c) = db();
        super::fidelity::renamed_column_keeps_its_check(&mut c);
    }

    #[test]
    fn rebuild_drops_an_unnamed_foreign_key() {
        let (_d, mut c) = db();
        rebuild::unnamed_foreign_key_is_dropped(&mut c);
    }

    #[test]
    fn rebuild_refuses_to_break_a_view() {
        let (_d, mut c) = db();
        rebuild::view_on_removed_column_fails_the_rebuild(&mut c);
    }

    #[test]
    fn lease_taken_over_stops_before_the_next_migration() {
        use diesel::Connection;
        let (d, mut c) = db();
        let path = d.path().join("test.db").display().to_string();
        let mut other = diesel::sqlite::SqliteConnection::establish(&path).expect("opens");
        scenario::lease_taken_over_stops_before_the_next_migration(&mut c, &mut other);
    }

    #[test]
    fn concurrent_runners() {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        let (d, mut c) = db();
        let path = d.path().join("test.db").display().to_string();
        scenario::concurrent_runners(
            move || {
                let mut c = diesel::sqlite::SqliteConnection::establish(&path).expect("opens");
                c.batch_execute("PRAGMA busy_timeout = 60000")
                    .expect("busy timeout");
                c
            },
            &mut c,
        );
    }

    #[test]
    fn operations_read_back() {
        use diesel::Connection;
        introspection::operations_round_trip(|_| {
            diesel::sqlite::SqliteConnection::establish(":memory:").expect("in-memory SQLite")
        });
    }

    #[test]
    fn outside_objects_are_reported() {
        let (_d, mut c) = db();
        introspection::sqlite_outside_objects(&mut c);
    }

    #[test]
    fn declared_types_read_as_the_model() {
        let (_d, mut c) = db();
        introspection::sqlite_declared_types_read_as_the_model(&mut c);
    }

    #[test]
    fn long_default_names_stay_distinct() {
        let (_d, mut c) = db();
        super::fidelity::long_default_names_stay_distinct(&mut c, |c| {
            support::rows_sqlite(
                c,
                "SELECT CAST(COUNT(*) AS TEXT) AS a, '' AS b, '' AS c, '' AS d FROM sqlite_master \
                 WHERE type = 'index' AND tbl_name = 'customer_subscription_billing_history_entries' AND name LIKE 'idx_%'",
            )[0]
            .a
            .parse()
            .expect("a count")
        });
    }
}

mod postgres {
    use super::{
        backfill, checks, introspection, keep, not_null, references, resolve, scenario, support,
        zero_downtime,
    };

    common_scenarios!();

    #[test]
    fn drop_column_names_dependents() {
        with_db("dropdeps", super::fidelity::pg_drop_column_names_dependents);
    }

    #[test]
    fn long_default_names_stay_distinct() {
        with_db("longnames", |c| {
            super::fidelity::long_default_names_stay_distinct(c, |c| {
                support::rows_pg(
                    c,
                    "SELECT COUNT(*)::text AS a, '' AS b, '' AS c, '' AS d FROM pg_indexes \
                     WHERE tablename = 'customer_subscription_billing_history_entries' AND indexname LIKE 'idx_%'",
                )[0]
                .a
                .parse()
                .expect("a count")
            })
        });
    }

    #[test]
    fn renamed_column_keeps_its_check() {
        with_db(
            "renamecheck",
            super::fidelity::renamed_column_keeps_its_check,
        );
    }

    #[test]
    fn backfill_lock_timeout_retry_resumes() {
        with_pg("backfillretry", backfill::lock_timeout_retry_resumes);
    }

    fn with_pg(tag: &str, f: impl FnOnce(&support::PgDb)) {
        let Some(base) = support::pg_base_url() else {
            return;
        };
        f(&support::PgDb::create(&base, tag));
    }

    #[test]
    fn lock_timeout_retries_then_fails_cleanly() {
        with_pg(
            "locktimeout",
            zero_downtime::lock_timeout_retries_then_fails_cleanly,
        );
    }

    #[test]
    fn backfill_waits_for_a_lagging_replica() {
        let Some(replica) = super::replica_lag::replica() else {
            return;
        };
        with_pg("replag", |db| {
            super::replica_lag::backfill_waits_for_a_lagging_replica(db, replica)
        });
    }

    #[test]
    fn concurrent_builds_keep_the_maximum_during_short_waits() {
        with_pg(
            "cicwaits",
            zero_downtime::concurrent_builds_keep_the_maximum_during_short_waits,
        );
    }

    #[test]
    fn short_lock_waits_come_first_and_grow() {
        with_pg(
            "lockwaits",
            zero_downtime::short_lock_waits_come_first_and_grow,
        );
    }

    #[test]
    fn lock_timeout_retries_then_succeeds() {
        with_pg(
            "lockretry",
            zero_downtime::lock_timeout_retries_then_succeeds,
        );
    }

    #[test]
    fn cancelled_batch_is_not_run_again() {
        with_pg(
            "cancelbatch",
            zero_downtime::cancelled_batch_is_not_run_again,
        );
    }

    #[test]
    fn plain_migrations_run_as_one_batch() {
        with_pg("onebatch", zero_downtime::plain_migrations_run_as_one_batch);
    }

    #[test]
    fn each_migration_gets_its_lock_timeout() {
        with_pg(
            "locktimeouts",
            zero_downtime::each_migration_gets_its_lock_timeout,
        );
    }

    #[test]
    fn invalid_index_is_rebuilt() {
        with_pg("invalidindex", zero_downtime::invalid_index_is_rebuilt);
    }

    #[test]
    fn constraints_on_existing_table() {
        with_pg("constraints", zero_downtime::constraints_on_existing_table);
    }

    #[test]
    fn statement_timeout_cancels_without_retry() {
        with_pg(
            "stmttimeout",
            zero_downtime::statement_timeout_cancels_without_retry,
        );
    }

    fn with_db(tag: &str, f: impl FnOnce(&mut diesel::pg::PgConnection)) {
        let Some(base) = support::pg_base_url() else {
            return;
        };
        let db = support::PgDb::create(&base, tag);
        let mut c = db.connect();
        f(&mut c);
    }

    #[test]
    fn lease_taken_over_stops_before_the_next_migration() {
        let Some(base) = support::pg_base_url() else {
            return;
        };
        let db = support::PgDb::create(&base, "lease");
        let (mut c, mut other) = (db.connect(), db.connect());
        scenario::lease_taken_over_stops_before_the_next_migration(&mut c, &mut other);
    }

    #[test]
    fn concurrent_runners() {
        use diesel::Connection;
        let Some(base) = support::pg_base_url() else {
            return;
        };
        let db = support::PgDb::create(&base, "concurrent");
        let url = db.url.clone();
        let mut check = db.connect();
        scenario::concurrent_runners(
            move || diesel::pg::PgConnection::establish(&url).expect("connects"),
            &mut check,
        );
    }

    #[test]
    fn operations_read_back() {
        use diesel::connection::SimpleConnection;
        let Some(base) = support::pg_base_url() else {
            return;
        };
        let db = support::PgDb::create(&base, "roundtrip");
        introspection::operations_round_trip(|n| {
            let mut c = db.connect();
            c.batch_execute(&format!(
                "CREATE SCHEMA case_{n}; SET search_path TO case_{n}"
            ))
            .expect("case schema");
            c
        });
    }

    #[test]
    fn outside_objects_are_reported() {
        with_db("outside", introspection::pg_outside_objects);
    }

    #[test]
    fn verify_without_probe() {
        with_db("readonly", introspection::pg_verify_without_probe);
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::{
        backfill, checks, introspection, keep, not_null, references, resolve, scenario, support,
        zero_downtime,
    };

    common_scenarios!();

    fn with_db(tag: &str, f: impl FnOnce(&mut diesel::mysql::MysqlConnection)) {
        let Some(base) = support::mysql_base_url() else {
            return;
        };
        let db = support::MyDb::create(&base, tag);
        let mut c = db.connect();
        f(&mut c);
    }

    #[test]
    fn foreign_key_added_in_place_with_rows_checked() {
        with_db(
            "onlinefk",
            super::online_fk::foreign_key_added_in_place_with_rows_checked,
        );
    }

    #[test]
    fn concurrent_runners() {
        use diesel::Connection;
        let Some(base) = support::mysql_base_url() else {
            return;
        };
        let db = support::MyDb::create(&base, "concurrent");
        let url = db.url.clone();
        let mut check = db.connect();
        scenario::concurrent_runners(
            move || diesel::mysql::MysqlConnection::establish(&url).expect("connects"),
            &mut check,
        );
    }

    #[test]
    fn operations_read_back() {
        let Some(base) = support::mysql_base_url() else {
            return;
        };
        // A fresh database per case, dropped when the test ends.
        let mut dbs = Vec::new();
        introspection::operations_round_trip(|n| {
            let db = support::MyDb::create(&base, &format!("rt{n}"));
            let c = db.connect();
            dbs.push(db);
            c
        });
    }

    #[test]
    fn outside_objects_are_reported() {
        with_db("outside", introspection::mysql_outside_objects);
    }

    #[test]
    fn drop_column_names_dependents() {
        with_db(
            "dropdeps",
            super::fidelity::mysql_drop_column_names_dependents,
        );
    }

    #[test]
    fn long_default_names_stay_distinct() {
        with_db("longnames", |c| {
            super::fidelity::long_default_names_stay_distinct(c, |c| {
                support::rows_mysql(
                    c,
                    "SELECT CAST(COUNT(DISTINCT index_name) AS CHAR) AS a, '' AS b, '' AS c, '' AS d \
                     FROM information_schema.statistics WHERE table_schema = DATABASE() \
                     AND table_name = 'customer_subscription_billing_history_entries' AND index_name LIKE 'idx\\_%'",
                )[0]
                .a
                .parse()
                .expect("a count")
            })
        });
    }

    #[test]
    fn renamed_column_keeps_its_check() {
        with_db(
            "renamecheck",
            super::fidelity::renamed_column_keeps_its_check,
        );
    }

    #[test]
    fn modify_keeps_column_attributes() {
        with_db(
            "modifykeeps",
            super::fidelity::mysql_modify_keeps_column_attributes,
        );
    }

    #[test]
    fn backfill_waits_for_a_lagging_mariadb_replica() {
        let Some((primary, replica)) = super::replica_lag::my_replica() else {
            return;
        };
        let Some(other) = support::mysql_base_url() else {
            return;
        };
        super::replica_lag::mariadb_backfill_waits_for_a_lagging_replica(
            &primary, &replica, &other,
        );
    }

    #[test]
    fn lock_wait_timeout_and_retry() {
        let Some(base) = support::mysql_base_url() else {
            return;
        };
        zero_downtime::mysql_lock_wait_timeout_and_retry(&support::MyDb::create(&base, "lockwait"));
    }
}

/// Under CI the MySQL/MariaDB suite must run: a build without the `mysql`
/// feature fails instead of passing silently.
#[cfg(not(feature = "mysql"))]
#[test]
fn mysql_suite_is_compiled() {
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("MySQL suite not compiled: run scripts/test (cargo test --features mysql)");
    }
    eprintln!("\n!!!!!!!! MySQL/MariaDB suite not compiled: run scripts/test or add --features mysql !!!!!!!!\n");
}
