use migrator::Model;

#[derive(Model)]
struct Acct {
    #[model(primary_key)]
    id: i64,
    #[model(sql_type = "int, DROP COLUMN secret")]
    x: i32,
}

fn main() {}
