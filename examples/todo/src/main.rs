//! The todo/chat example of migrator, end to end.
//!
//! It applies the six migrations of `migrations/`, embedded in the binary at
//! compile time by `embed_migrations!` (users, tasks, chat tables,
//! a priority column with a default, an index, and a data migration that
//! turns the `is_high_priority` flag into `priority` and back), shows the
//! data before and after, rolls the data migration back and applies it again.
//!
//! Then it works with the data through the models themselves: typed diesel
//! queries over the `table!`s that `migrator::schema!()` expands from the
//! snapshot (insert users and tasks with database-assigned keys, list the
//! tasks with their users through a join, update a priority, delete).
//!
//! SQLite by default (a fresh `todo.db` next to this crate's manifest); set
//! `DATABASE_URL=postgres://…` to run it on PostgreSQL.

// Some fields are only printed through `Debug`.
#[allow(dead_code)]
mod models;

use std::error::Error;
use std::path::Path;
use std::process::ExitCode;

use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};
use migrator::runner::{connect, redact_url, AnyConnection, MigrationConnection, Migrator};
use migrator::{EmbeddedMigrations, Model};

/// Every migration of `migrations/`, checked against `schema.toml` when
/// this crate compiles, and compiled in: the binary needs no files at run
/// time. Cargo rebuilds it when a migration or the snapshot changes.
static MIGRATIONS: EmbeddedMigrations = migrator::embed_migrations!("migrations");

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let url = match std::env::var("DATABASE_URL") {
        Ok(url) => url,
        Err(_) => {
            let path = here.join("todo.db");
            // A fresh file each run, so the walk-through is the same every time.
            let _ = std::fs::remove_file(&path);
            format!("sqlite://{}", path.display())
        }
    };
    println!("database: {}", redact_url(&url));
    println!(
        "models: {}",
        [
            models::User::table(),
            models::Task::table(),
            models::Conversation::table(),
            models::Message::table()
        ]
        .iter()
        .map(|t| format!("{} ({} columns)", t.name, t.columns.len()))
        .collect::<Vec<_>>()
        .join(", ")
    );
    println!(
        "migrations: {} in {}",
        MIGRATIONS.len(),
        here.join(MIGRATIONS.dir()).display()
    );
    match connect(&url)? {
        AnyConnection::Sqlite(mut c) => demo(&mut c),
        AnyConnection::Postgres(mut c) => demo(&mut c),
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(mut c) => demo(&mut c),
        #[allow(unreachable_patterns)]
        other => Err(format!(
            "this build of the todo example runs on SQLite and PostgreSQL; build it with `--features mysql` for {}",
            other.dialect()
        )
        .into()),
    }
}

/// Reads rows for display, on whichever database the URL named, and runs
/// the typed queries.
trait Rows: MigrationConnection {
    fn rows(&mut self, query: &str) -> Result<Vec<TaskRow>, diesel::result::Error>;
    fn typed(&mut self) -> Result<(), diesel::result::Error>;
}

#[derive(QueryableByName)]
struct TaskRow {
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Text)]
    value: String,
}

/// The same typed queries for each connection type (diesel's query types
/// are per backend).
macro_rules! rows {
    ($conn:ty) => {
        impl Rows for $conn {
            fn rows(&mut self, query: &str) -> Result<Vec<TaskRow>, diesel::result::Error> {
                diesel::sql_query(query).load(self)
            }

            fn typed(&mut self) -> Result<(), diesel::result::Error> {
                use diesel::prelude::*;
                use models::schema::{conversations, tasks, users};
                use models::{Conversation, NewTask, NewUser, Task, User};
                let conn = self;

                // Insert: the keys are the database's (no `RETURNING` on
                // MySQL, so the new user is read back by its unique name).
                diesel::insert_into(users::table)
                    .values(&NewUser { name: "cy" })
                    .execute(conn)?;
                let cy: User = users::table
                    .filter(users::name.eq("cy"))
                    .select(User::as_select())
                    .first(conn)?;
                diesel::insert_into(tasks::table)
                    .values(&[
                        NewTask {
                            user_id: cy.id,
                            title: "write the docs",
                            done: false,
                            priority: "low",
                        },
                        NewTask {
                            user_id: cy.id,
                            title: "review the docs",
                            done: true,
                            priority: "medium",
                        },
                    ])
                    .execute(conn)?;
                println!("  inserted {cy:?} and two tasks");

                // A join over the foreign key `tasks.user_id -> users.id`.
                let listed: Vec<(Task, User)> = tasks::table
                    .inner_join(users::table)
                    .select((Task::as_select(), User::as_select()))
                    .order(tasks::id)
                    .load(conn)?;
                println!("  tasks with their users:");
                for (task, user) in &listed {
                    println!(
                        "    {:<28} {:<6} {:<4} done: {}",
                        task.title, task.priority, user.name, task.done
                    );
                }

                // Update through the model (`AsChangeset` leaves the key out).
                let mut task: Task = tasks::table
                    .filter(tasks::title.eq("write the docs"))
                    .select(Task::as_select())
                    .first(conn)?;
                task.priority = "high".into();
                diesel::update(&task).set(&task).execute(conn)?;
                let priority: String = tasks::table
                    .find(task.id)
                    .select(tasks::priority)
                    .first(conn)?;
                assert_eq!(priority, "high");
                println!("  `{}` now has priority {priority}", task.title);

                // Delete what is done.
                let gone =
                    diesel::delete(tasks::table.filter(tasks::done.eq(true))).execute(conn)?;
                let left: i64 = tasks::table.count().get_result(conn)?;
                println!("  deleted {gone} done tasks, {left} left");

                let chats: Vec<Conversation> = conversations::table
                    .select(Conversation::as_select())
                    .load(conn)?;
                println!(
                    "  conversations: {}",
                    chats
                        .iter()
                        .map(|c| c.title.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                Ok(())
            }
        }
    };
}

rows!(diesel::sqlite::SqliteConnection);
rows!(diesel::pg::PgConnection);
#[cfg(feature = "mysql")]
rows!(diesel::mysql::MysqlConnection);

fn show<C: Rows>(c: &mut C, label: &str, query: &str) -> Result<(), Box<dyn Error>> {
    println!("  tasks ({label}):");
    for r in c.rows(query)? {
        println!("    {:<28} {}", r.title, r.value);
    }
    Ok(())
}

const FLAGS: &str = "SELECT title, CASE WHEN is_high_priority THEN 'high priority' ELSE '-' END AS value FROM tasks ORDER BY id";
const PRIORITIES: &str = "SELECT title, priority AS value FROM tasks ORDER BY id";

fn demo<C: Rows>(c: &mut C) -> Result<(), Box<dyn Error>> {
    let m = Migrator::new(&MIGRATIONS).on_event(|e| println!("  {e}"));

    println!("\n== start from an empty schema (rolls back anything a previous run left)");
    m.down_to(c, 0)?;

    println!("\n== apply 0001..0005: users, tasks, chat tables, priority column, index");
    m.up_to(c, Some(5))?;
    c.execute(
        "INSERT INTO users (name) VALUES ('ann'), ('bob');
         INSERT INTO tasks (user_id, title, is_high_priority, done) VALUES
           (1, 'ship the release', TRUE, FALSE),
           (2, 'water the plants', FALSE, TRUE),
           (1, 'answer bob''s message', TRUE, FALSE);
         INSERT INTO conversations (title) VALUES ('general');
         INSERT INTO messages (conversation_id, author_id, body) VALUES (1, 2, 'did you ship it?')",
    )?;
    show(c, "before the data migration: the old flag", FLAGS)?;
    show(
        c,
        "before the data migration: priority has its default",
        PRIORITIES,
    )?;

    println!("\n== apply 0006: priority computed from the flag, then the flag dropped");
    m.up(c)?;
    show(c, "after 0006", PRIORITIES)?;

    println!("\n== status");
    print!("{}", indent(&m.status(c)?.to_string()));

    println!("\n== roll back 0006: the flag comes back, computed from priority");
    m.down_steps(c, 1)?;
    show(c, "after rolling back 0006", FLAGS)?;

    println!("\n== apply 0006 again");
    m.up(c)?;
    show(c, "after re-applying 0006", PRIORITIES)?;

    println!("\n== up once more: nothing to do");
    let again = m.up(c)?;
    assert!(again.done.is_empty());

    println!("\n== typed queries through the models");
    c.typed()?;
    println!(
        "\ndone: {} migrations applied, data kept across down and up",
        MIGRATIONS.len()
    );
    Ok(())
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}\n")).collect()
}
