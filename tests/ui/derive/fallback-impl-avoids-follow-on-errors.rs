use migrator::Model;

#[derive(Model)]
struct Task {
    #[model(primay_key)]
    id: i64,
}

// The derive failed, yet `Task` still implements `Model`: the one error above
// is all the user sees, not another for every use of the trait.
fn table_name<M: Model>() -> String {
    M::table().name
}

fn main() {
    let _ = Task::table();
    let _ = table_name::<Task>();
}
