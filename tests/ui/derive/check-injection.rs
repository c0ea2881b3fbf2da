use migrator::Model;

#[derive(Model)]
#[model(check = "a > 0) , DROP COLUMN secret , ADD CHECK (true")]
#[model(check(name = "ck_b", expr = "b > 0 /* x */"))]
struct Acct {
    #[model(primary_key)]
    id: i64,
    a: i32,
    b: i32,
}

fn main() {}
