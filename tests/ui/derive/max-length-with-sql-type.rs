use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(max_length = 20, sql_type = "CHAR(20)")]
    code: String,
}

fn main() {}
