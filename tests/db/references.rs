//! A foreign key added to a table with rows (every database): a row that
//! references nothing refuses the migration before it changes anything
//! (the index the same migration builds first is not there, no history
//! row), a NULL reference is exempt, and once the rows are fixed the key
//! is added and enforced.

use migrator_core::runner::Migrator;

use super::scenario::TestDb;
use super::support::{expected, TestProject};

const V1: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "teams")]
pub struct Team {
    #[model(primary_key, auto_increment)]
    pub id: i64,
}

#[derive(Model)]
#[model(table = "players")]
pub struct Player {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    pub team_id: Option<i64>,
    #[model(max_length = 40)]
    pub nick: String,
}
"#;

pub fn orphans_refuse_a_new_foreign_key_before_anything_changes<C: TestDb>(c: &mut C) {
    let p = TestProject::new();
    p.set_models(V1);
    p.generate("create").expect("a change");
    p.set_models(
        &V1.replace(
            "    pub team_id: Option<i64>,",
            "    #[model(foreign_key = \"teams.id\")]\n    pub team_id: Option<i64>,",
        )
        .replace(
            "    #[model(max_length = 40)]",
            "    #[model(max_length = 40, index)]",
        ),
    );
    p.generate("players_join_teams").expect("a change");
    let set = p.set();
    Migrator::new(&set).up_to(c, Some(1)).expect("0001");
    c.execute(
        "INSERT INTO teams (id) VALUES (1);
         INSERT INTO players (id, team_id, nick) VALUES (1, 1, 'a'), (2, NULL, 'b'), (3, 7, 'c')",
    )
    .expect("rows");
    let err = Migrator::new(&set)
        .up(c)
        .expect_err("a player of no team")
        .to_string();
    assert!(
        err.contains("refused before changing anything")
            && err.contains("adds foreign key `fk_players_team_id` (`players.team_id` -> `teams`)")
            && err.contains("a row of `players` whose `players.team_id` matches no row of `teams`"),
        "{err}"
    );
    assert_eq!(c.shape(), expected(&set.state(1)), "unchanged");
    assert_eq!(
        c.count_rows("SELECT 1 FROM _migrator_history WHERE version = 2")
            .expect("history"),
        0,
        "no history row"
    );
    c.execute("UPDATE players SET team_id = NULL WHERE id = 3")
        .expect("fixed");
    Migrator::new(&set).up(c).expect("0002");
    assert_eq!(c.shape(), expected(&set.state(2)));
    assert!(
        c.execute("INSERT INTO players (id, team_id, nick) VALUES (4, 9, 'd')")
            .is_err(),
        "the key is enforced"
    );
}
