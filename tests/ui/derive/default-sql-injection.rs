use migrator::Model;

#[derive(Model)]
struct Acct {
    #[model(primary_key)]
    id: i64,
    #[model(default_sql = "1); DROP TABLE victim; --")]
    x: i32,
}

fn main() {}
