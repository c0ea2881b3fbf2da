use migrator::Model;

/// Every mistake below is reported in the same build.
#[derive(Model)]
#[model(tabel = "tasks", index = "user_id, missing")]
struct Task {
    #[model(primary_key, auto_increment)]
    id: Option<i64>,
    #[model(max_length = 200, max_length = 100)]
    title: String,
    #[model(on_delete = "cascade")]
    user_id: i64,
    amount: u32,
}

fn main() {}
