//! The app's models. `migrator generate` reads these (without compiling them)
//! and diffs them against `migrations/schema.toml`.

use migrator::Model;

#[derive(Model)]
#[model(table = "users")]
pub struct User {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 100, unique)]
    pub name: String,
}

#[derive(Model)]
#[model(check = "priority IN ('low', 'medium', 'high')")]
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

#[derive(Model)]
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
