#[derive(Model)]
pub struct Doc {
    #[model(primary_key)]
    pub id: i64,
    #[model(sql_type = "tsvector")]
    pub words: String,
}
