//! MySQL/MariaDB: a foreign key added to a table that has rows is added in
//! place (`foreign_key_checks` off for that statement, so InnoDB does not
//! copy the table while writes wait), with the rows checked by queries
//! before and after it: a row that references nothing refuses the
//! migration before anything changes, and one that slipped in while the
//! key was being added stops it after the key, recorded, until fixed.

use diesel::mysql::MysqlConnection;
use migrator_core::runner::{MigrationConnection, Migrator};

use super::scenario::TestDb;
use super::support::{expected, TestProject};

const V1: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "owners")]
pub struct Owner {
    #[model(primary_key, auto_increment)]
    pub id: i64,
}

#[derive(Model)]
#[model(table = "pets")]
pub struct Pet {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    pub owner_id: Option<i64>,
}
"#;

fn project() -> TestProject {
    let p = TestProject::new();
    p.set_models(V1);
    p.generate("create").expect("a change");
    p.set_models(&V1.replace(
        "    pub owner_id: Option<i64>,",
        "    #[model(foreign_key = \"owners.id\")]\n    pub owner_id: Option<i64>,",
    ));
    p.generate("pets_have_owners").expect("a change");
    p
}

fn one(c: &mut MysqlConnection, q: &str) -> String {
    c.rows(&format!(
        "SELECT CAST(({q}) AS CHAR) AS a, '' AS b, '' AS c, '' AS d"
    ))[0]
        .a
        .clone()
}

fn has_key(c: &mut MysqlConnection) -> bool {
    one(
        c,
        "SELECT COUNT(*) FROM information_schema.TABLE_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'pets' AND CONSTRAINT_TYPE = 'FOREIGN KEY'",
    ) == "1"
}

pub fn foreign_key_added_in_place_with_rows_checked(c: &mut MysqlConnection) {
    let p = project();
    let set = p.set();
    let dry = Migrator::new(&set)
        .dry_run_up(c, None)
        .expect("dry run")
        .sql
        .join("\n");
    assert!(
        dry.contains("SESSION foreign_key_checks = 0;")
            && dry.contains("ALGORITHM=INPLACE, LOCK=NONE;")
            && dry.contains("NOT EXISTS (SELECT 1 FROM `owners` r WHERE r.`id` = c.`owner_id`)"),
        "{dry}"
    );
    Migrator::new(&set).up_to(c, Some(1)).expect("0001");
    c.execute(
        "INSERT INTO owners (id) VALUES (1), (2);
         INSERT INTO pets (id, owner_id) VALUES (1, 1), (2, NULL), (3, 99), (4, 98)",
    )
    .expect("rows");

    // Two pets reference no owner: refused, nothing changed.
    let err = Migrator::new(&set)
        .up(c)
        .expect_err("orphans refuse the key")
        .to_string();
    assert!(
        err.contains("refused before changing anything")
            && err.contains("foreign key `fk_pets_owner_id` (`pets.owner_id` -> `owners`)")
            && err.contains("a row of `pets` whose `pets.owner_id` matches no row of `owners`"),
        "{err}"
    );
    assert!(!has_key(c), "no key");
    assert_eq!(c.shape(), expected(&set.state(1)), "unchanged");
    assert_eq!(one(c, "SELECT @@SESSION.foreign_key_checks + 0"), "1");

    // Fixed, but another session reads the table and keeps its
    // transaction open: the key's statement gives up waiting with the
    // checks off, and the run puts them back on when it ends.
    c.execute("UPDATE pets SET owner_id = 2 WHERE owner_id > 2")
        .expect("fixed");
    // Under Galera's TOI a DDL statement does not wait for a reader's
    // metadata lock, it aborts the reader: there is no wait to give up on.
    let galera = one(
        c,
        "SELECT COUNT(*) FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME = 'WSREP_ON' AND VARIABLE_VALUE = 'ON'",
    ) == "1";
    if galera {
        eprintln!("Galera node: the reader part of this test does not apply (TOI aborts readers)");
    } else {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        let base = super::support::mysql_base_url().expect("reachable");
        let name = one(c, "SELECT DATABASE()");
        let mut reader = MysqlConnection::establish(&format!("{base}/{name}")).expect("connects");
        reader
            .batch_execute("BEGIN; SELECT COUNT(*) FROM pets")
            .expect("read");
        let err = Migrator::new(&set)
            .lock_waits(migrator_core::runner::LockWaits::none())
            .lock_retries(1, std::time::Duration::from_millis(10))
            .up(c)
            .expect_err("the reader holds the table")
            .to_string();
        assert!(err.contains("gave up after 1 attempt(s)"), "{err}");
        reader.batch_execute("COMMIT").expect("done");
    }
    assert!(!has_key(c), "no key");
    assert_eq!(
        one(c, "SELECT @@SESSION.foreign_key_checks + 0"),
        "1",
        "checks back on after a failed try"
    );

    // The key is added; a NULL owner is exempt.
    Migrator::new(&set).up(c).expect("0002");
    assert!(has_key(c));
    assert_eq!(c.shape(), expected(&set.state(2)));
    assert_eq!(
        one(c, "SELECT @@SESSION.foreign_key_checks + 0"),
        "1",
        "checks back on"
    );
    assert!(
        c.execute("INSERT INTO pets (id, owner_id) VALUES (5, 77)")
            .is_err(),
        "the key is enforced"
    );

    // Down drops it, up adds it again.
    Migrator::new(&set).down_to(c, 1).expect("down");
    assert!(!has_key(c));
    Migrator::new(&set).up(c).expect("up again");
    assert!(has_key(c));

    // A row that slipped in while the key was being added (simulated: the
    // key there, an orphan under it, the history at 1) stops the run after
    // the key, recorded; fixed, `up` finishes.
    Migrator::new(&set).down_to(c, 1).expect("down");
    c.execute(
        "INSERT INTO pets (id, owner_id) VALUES (6, 55);
         SET SESSION foreign_key_checks = 0;
         ALTER TABLE pets ADD CONSTRAINT fk_pets_owner_id FOREIGN KEY (owner_id) REFERENCES owners (id);
         SET SESSION foreign_key_checks = 1",
    )
    .expect("an orphan under the key");
    let err = Migrator::new(&set)
        .up(c)
        .expect_err("the check after the key")
        .to_string();
    assert!(
        err.contains("stopped after the statements before this check")
            && err.contains("rows written while it was being added")
            && err.contains("1 row(s) of `pets`"),
        "{err}"
    );
    c.execute("DELETE FROM pets WHERE id = 6").expect("fixed");
    Migrator::new(&set).up(c).expect("resumes and finishes");
    assert_eq!(c.shape(), expected(&set.state(2)));
    assert_eq!(one(c, "SELECT @@SESSION.foreign_key_checks + 0"), "1");
}
