//! The models' field names and stated diesel types in diesel's schema:
//! a column named otherwise than its field is the field in the `table!`
//! (with `#[sql_name]`), in the key and in `joinable!`; `diesel_type`
//! replaces the type read from the column.

use std::path::Path;

use super::*;
use crate::model::parse_source;

const MODELS: &str = r#"
#[derive(Model)]
#[model(table = "accounts")]
pub struct Account {
    #[model(primary_key, auto_increment, column = "account_id")]
    pub id: i64,
    #[model(column = "display_name", max_length = 50)]
    pub name: String,
    #[model(sql_type = "mood", diesel_type = "crate::sql_types::Mood")]
    pub mood: Mood,
    #[model(sql_type = "mood", diesel_type = "crate::sql_types::Mood")]
    pub last_mood: Option<Mood>,
}

#[derive(Model)]
#[model(table = "posts")]
pub struct Post {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(column = "author", foreign_key = "accounts.account_id")]
    pub author_id: i64,
    pub body: String,
}
"#;

fn project() -> (Schema, Fields) {
    let defs = parse_source(Path::new("models.rs"), MODELS).expect("the models parse");
    let mut schema = Schema::new();
    for d in &defs {
        schema.insert(d.table.clone());
    }
    (schema, Fields::of_models(&defs))
}

#[test]
fn only_fields_that_differ_from_their_column_are_recorded() {
    let defs = parse_source(Path::new("models.rs"), MODELS).expect("the models parse");
    let names: Vec<(String, String)> = defs
        .iter()
        .flat_map(|d| d.diesel.iter().map(|f| (f.column.clone(), f.field.clone())))
        .collect();
    let want = [
        ("account_id", "id"),
        ("display_name", "name"),
        ("mood", "mood"),
        ("last_mood", "last_mood"),
        ("author", "author_id"),
    ];
    assert_eq!(
        names,
        want.map(|(c, f)| (c.to_string(), f.to_string())).to_vec()
    );
}

#[test]
fn columns_are_named_as_their_fields_and_stated_types_win() {
    let (schema, fields) = project();
    let text = render_with(&schema, &[Dialect::Postgres], &fields).expect("renders");
    let want = "diesel::table! {
    accounts (id) {
        #[sql_name = \"account_id\"]
        id -> BigInt,
        #[sql_name = \"display_name\"]
        name -> Text,
        mood -> crate::sql_types::Mood,
        last_mood -> Nullable<crate::sql_types::Mood>,
    }
}

diesel::table! {
    posts (id) {
        id -> BigInt,
        #[sql_name = \"author\"]
        author_id -> BigInt,
        body -> Text,
    }
}

diesel::joinable!(posts -> accounts (author_id));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    posts,
);
";
    assert_eq!(text, want);
    // Without the models' facts, the database's names and the SQL's type
    // (which `mood` has none of).
    let errors = render(&schema, &[Dialect::Postgres]).expect_err("`mood` has no diesel type");
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].message.contains("no diesel SQL type"),
        "{errors:?}"
    );
}

#[test]
fn a_stated_type_needs_no_agreement_between_dialects() {
    let (schema, fields) = project();
    let text = render_with(&schema, &Dialect::ALL, &fields).expect("renders for all three");
    assert!(text.contains("mood -> crate::sql_types::Mood,"), "{text}");
}

#[test]
fn a_diesel_type_that_is_no_type_path_is_a_spanned_error() {
    for (bad, says) in [
        ("not a type", "is not a Rust type path"),
        ("&'static str", "is not a Rust type path"),
        ("Nullable<Text>", "without `Nullable`"),
        ("diesel::sql_types::Nullable<Text>", "without `Nullable`"),
    ] {
        let src = format!(
            "#[derive(Model)]\npub struct T {{\n    id: i64,\n    #[model(sql_type = \"TEXT\", diesel_type = \"{bad}\")]\n    x: String,\n}}\n"
        );
        let errors = parse_source(Path::new("m.rs"), &src).expect_err(bad);
        assert_eq!(errors.len(), 1, "{bad}: {errors:?}");
        assert!(errors[0].message.contains(says), "{bad}: {errors:?}");
        assert_eq!(
            errors[0].line, 4,
            "{bad}: the error points at the attribute"
        );
    }
    let ok = "#[derive(Model)]\npub struct T {\n    id: i64,\n    #[model(diesel_type = \"diesel::sql_types::Array<diesel::sql_types::Nullable<Text>>\", sql_type = \"TEXT[]\")]\n    x: Vec<Option<String>>,\n}\n";
    parse_source(Path::new("m.rs"), ok).expect("an array of nullable elements is a type path");
}

#[test]
fn a_stated_type_does_not_give_a_database_arrays() {
    let src = "#[derive(Model)]\npub struct Post {\n    #[model(primary_key)]\n    id: i64,\n    #[model(sql_type = \"TEXT[]\", diesel_type = \"diesel::sql_types::Array<diesel::sql_types::Nullable<diesel::sql_types::Text>>\")]\n    notes: Vec<Option<String>>,\n}\n";
    let defs = parse_source(Path::new("m.rs"), src).expect("parses");
    let mut schema = Schema::new();
    schema.insert(defs[0].table.clone());
    let fields = Fields::of_models(&defs);
    let pg = render_with(&schema, &[Dialect::Postgres], &fields).expect("PostgreSQL has arrays");
    assert!(pg.contains("notes -> diesel::sql_types::Array<"), "{pg}");
    for d in [Dialect::Mysql, Dialect::Sqlite] {
        let errors = render_with(&schema, &[d], &fields).expect_err("no arrays there");
        assert!(
            errors[0].message.contains("arrays are PostgreSQL's"),
            "{errors:?}"
        );
    }
}

#[test]
fn a_list_of_options_is_an_array_of_nullable_elements() {
    let src = "#[derive(Model)]\npub struct Post {\n    #[model(primary_key)]\n    id: i64,\n    #[model(sql_type = \"TEXT[]\")]\n    notes: Vec<Option<String>>,\n    #[model(sql_type = \"INTEGER[]\")]\n    maybe: Option<Vec<Option<i32>>>,\n    #[model(sql_type = \"BIGINT[]\")]\n    ids: Vec<i64>,\n}\n";
    let defs = parse_source(Path::new("m.rs"), src).expect("parses");
    let flagged: Vec<(&str, bool)> = defs[0]
        .diesel
        .iter()
        .map(|f| (f.column.as_str(), f.nullable_elements))
        .collect();
    assert_eq!(flagged, [("notes", true), ("maybe", true)]);
    let mut schema = Schema::new();
    schema.insert(defs[0].table.clone());
    let pg =
        render_with(&schema, &[Dialect::Postgres], &Fields::of_models(&defs)).expect("renders");
    assert!(pg.contains("notes -> Array<Nullable<Text>>,"), "{pg}");
    assert!(
        pg.contains("maybe -> Nullable<Array<Nullable<Integer>>>,"),
        "{pg}"
    );
    assert!(pg.contains("ids -> Array<BigInt>,"), "{pg}");
}

#[test]
fn models_that_do_not_scan_are_a_compile_error_naming_the_file() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/diesel_fields");
    let dir = std::env::temp_dir().join(format!("migrator-fields-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).expect("mkdir");
    std::fs::create_dir_all(dir.join("migrations")).expect("mkdir");
    for f in ["migrator.toml", "migrations/schema.toml"] {
        std::fs::copy(fixture.join(f), dir.join(f)).expect("copy");
    }
    // Two models of one table: each derive is fine alone, the scan is not.
    let models = std::fs::read_to_string(fixture.join("src/models.rs")).expect("models");
    std::fs::write(dir.join("src/models.rs"), &models).expect("write");
    std::fs::write(dir.join("src/again.rs"), &models).expect("write");
    let out = super::expand_schema_in(&dir, proc_macro2::TokenStream::new()).to_string();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.contains("reads the models for their field names, and they do not scan"),
        "{out}"
    );
    assert!(
        out.contains("again.rs") || out.contains("models.rs"),
        "{out}"
    );
    assert!(
        !out.contains("diesel :: table !"),
        "no schema with the database's names: {out}"
    );
}
