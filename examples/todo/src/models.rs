//! The app's models. `migrator generate` reads these (without compiling them)
//! and diffs them against `migrations/schema.toml`; the same structs are the
//! rows of the app's typed diesel queries, over the `table!`s that
//! `migrator::schema!()` expands from that snapshot (no `schema.rs` to keep).

use diesel::{AsChangeset, Identifiable, Insertable, Queryable, Selectable};
use migrator::Model;

/// diesel's `table!`, `joinable!` and `allow_tables_to_appear_in_same_query!`
/// of every table in `migrations/schema.toml`, with the types all three
/// databases agree on (this app runs on each).
pub mod schema {
    migrator::schema!();
}

#[derive(Model, Debug, Queryable, Selectable, Identifiable)]
#[model(table = "users")]
#[diesel(table_name = schema::users)]
pub struct User {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 100, unique)]
    pub name: String,
}

#[derive(Model, Debug, Queryable, Selectable, Identifiable, AsChangeset)]
#[model(check = "priority IN ('low', 'medium', 'high')")]
#[diesel(table_name = schema::tasks)]
pub struct Task {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(index, foreign_key = "users.id", on_delete = "cascade")]
    pub user_id: i64,
    #[model(max_length = 200)]
    pub title: String,
    pub done: bool,
    #[model(max_length = 20, default = "medium")]
    pub priority: String,
}

#[derive(Model, Debug, Queryable, Selectable)]
#[diesel(table_name = schema::conversations)]
pub struct Conversation {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 200)]
    pub title: String,
}

#[derive(Model)]
pub struct Message {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(foreign_key = "conversations.id", on_delete = "cascade")]
    pub conversation_id: i64,
    #[model(foreign_key = "users.id", on_delete = "set null")]
    pub author_id: Option<i64>,
    pub body: String,
    #[model(default_sql = "CURRENT_TIMESTAMP")]
    pub created_at: chrono::NaiveDateTime,
}

/// A user to insert: the database assigns `id` (`auto_increment`), so the
/// insertable row is the model without its key.
#[derive(Debug, Insertable)]
#[diesel(table_name = schema::users)]
pub struct NewUser<'a> {
    pub name: &'a str,
}

/// A task to insert, its `id` assigned by the database.
#[derive(Debug, Insertable)]
#[diesel(table_name = schema::tasks)]
pub struct NewTask<'a> {
    pub user_id: i64,
    pub title: &'a str,
    pub done: bool,
    pub priority: &'a str,
}
