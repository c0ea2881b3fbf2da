use migrator::Model;

#[derive(Model)]
struct Person {
    #[model(primary_key)]
    id: i64,
    #[model(sql_type = "mood", diesel_type = "crate::sql types::Mood")]
    mood: String,
    #[model(sql_type = "mood", diesel_type = "Nullable<crate::sql_types::Mood>")]
    was: Option<String>,
}

fn main() {}
