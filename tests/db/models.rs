//! The seed models of docs/DESIGN.md §6, one source per version, written as a new
//! user would write them.

pub const V1_USERS: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "users")]
pub struct User {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 100, unique)]
    pub name: String,
}
"#;

pub const TASK_V2: &str = r#"
#[derive(Model)]
pub struct Task {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(foreign_key = "users.id", on_delete = "cascade")]
    pub user_id: i64,
    #[model(max_length = 200)]
    pub title: String,
    #[model(default = false)]
    pub is_high_priority: bool,
    pub done: bool,
}
"#;

pub const CHAT_V3: &str = r#"
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
"#;

pub const TASK_V4: &str = r#"
#[derive(Model)]
#[model(check = "priority IN ('low', 'medium', 'high')")]
pub struct Task {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(foreign_key = "users.id", on_delete = "cascade")]
    pub user_id: i64,
    #[model(max_length = 200)]
    pub title: String,
    #[model(default = false)]
    pub is_high_priority: bool,
    pub done: bool,
    #[model(max_length = 20, default = "medium")]
    pub priority: String,
}
"#;

pub const TASK_V5: &str = r#"
#[derive(Model)]
#[model(check = "priority IN ('low', 'medium', 'high')")]
pub struct Task {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(index, foreign_key = "users.id", on_delete = "cascade")]
    pub user_id: i64,
    #[model(max_length = 200)]
    pub title: String,
    #[model(default = false)]
    pub is_high_priority: bool,
    pub done: bool,
    #[model(max_length = 20, default = "medium")]
    pub priority: String,
}
"#;

pub const TASK_V6: &str = r#"
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
"#;

/// The models after migration `n` (1..=6).
pub fn version(n: u32) -> String {
    let task = match n {
        1 => "",
        2 | 3 => TASK_V2,
        4 => TASK_V4,
        5 => TASK_V5,
        _ => TASK_V6,
    };
    let chat = if n >= 3 { CHAT_V3 } else { "" };
    format!("{V1_USERS}{task}{chat}")
}
