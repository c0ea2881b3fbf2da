//! `embed_migrations!` and `#[migration]` as functions: the expansion of a
//! small folder (an insta snapshot), and every error, with its message.
//! `tests/embed.rs` in the facade compiles real expansions and compares them
//! with the runtime loader.

use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::quote;

use super::{expand_in, expand_migration_attr};
use crate::migration::{downgrade_for, parse_all, replay_states, MigrationFile, SNAPSHOT_FILE};
use crate::ops::{Operation, RawSql, SqlVariants};
use crate::schema::{Column, ColumnType, DefaultValue, Table};
use crate::snapshot::{chain_of, file_entry, Snapshot};

/// A folder under the system's temporary directory, removed on drop.
struct Folder {
    root: PathBuf,
}

impl Folder {
    fn new(tag: &str) -> Folder {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "migrator-embed-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("migrations")).expect("mkdir");
        Folder { root }
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.root.join("migrations").join(name), text).expect("write");
    }

    fn remove(&self, name: &str) {
        std::fs::remove_file(self.root.join("migrations").join(name)).expect("remove");
    }

    /// Writes the migrations and the snapshot `migrator generate` would
    /// write for them.
    fn write_all(&self, files: &[(&str, MigrationFile)]) {
        let texts: Vec<(String, String)> = files
            .iter()
            .map(|(n, f)| (n.to_string(), f.to_text("test")))
            .collect();
        for (n, t) in &texts {
            self.write(n, t);
        }
        self.write(SNAPSHOT_FILE, &snapshot_text(&texts));
    }

    fn expand(&self) -> String {
        let lit = syn::LitStr::new("migrations", Span::call_site());
        let out = expand_in(&self.root, &lit).to_string();
        out.replace(&self.root.display().to_string(), "$ROOT")
    }

    /// The message of the `compile_error!` the expansion starts with.
    fn error(&self) -> String {
        compile_error_message(&self.expand())
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn snapshot_text(texts: &[(String, String)]) -> String {
    let ms = parse_all(Path::new("m"), texts).expect("parses");
    let states = replay_states(Path::new("m"), &ms).expect("replays");
    Snapshot {
        head: ms.last().map_or(0, |m| m.version),
        chain: chain_of(ms.iter().map(|m| (m.version, m.checksum.as_str()))),
        files: ms
            .iter()
            .map(|m| file_entry(&m.checksum, &m.file_name))
            .collect(),
        schema: states.last().cloned().unwrap_or_default(),
    }
    .to_text()
}

/// The messages of every `compile_error!` in an expansion, in order.
fn compile_errors(expansion: &str) -> Vec<String> {
    fn walk(tokens: TokenStream, out: &mut Vec<String>) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, t) in tokens.iter().enumerate() {
            match t {
                TokenTree::Ident(id) if id == "compile_error" => {
                    if let Some(TokenTree::Group(g)) = tokens.get(i + 2) {
                        if let Some(TokenTree::Literal(lit)) = g.stream().into_iter().next() {
                            let lit: syn::LitStr =
                                syn::parse_str(&lit.to_string()).expect("a string literal");
                            out.push(lit.value());
                        }
                    }
                }
                TokenTree::Group(g) => walk(g.stream(), out),
                _ => {}
            }
        }
    }
    let tokens: TokenStream = expansion.parse().expect("tokens");
    let mut out = Vec::new();
    walk(tokens, &mut out);
    out
}

/// The message of the one `compile_error!` of an expansion.
fn compile_error_message(expansion: &str) -> String {
    let mut errors = compile_errors(expansion);
    assert_eq!(errors.len(), 1, "one error in {expansion}");
    errors.remove(0)
}

fn pretty(expansion: &str) -> String {
    let file: syn::File = syn::parse_str(&format!(
        "static MIGRATIONS: ::migrator::EmbeddedMigrations = {expansion};"
    ))
    .unwrap_or_else(|e| panic!("the expansion parses ({e}): {expansion}"));
    prettyplease::unparse(&file)
}

fn users() -> Table {
    let mut t = Table::new("users");
    let mut id = Column::new("id", ColumnType::BigInt);
    id.auto_increment = true;
    let mut name = Column::new("name", ColumnType::Varchar(100));
    name.default = Some(DefaultValue::Str("anonymous".into()));
    t.columns = vec![id, name];
    t.primary_key = vec!["id".into()];
    t
}

fn file(description: &str, upgrade: Vec<Operation>) -> MigrationFile {
    let downgrade = downgrade_for(&upgrade);
    MigrationFile::new(description, upgrade, downgrade)
}

fn create_users() -> MigrationFile {
    file(
        "create users",
        vec![Operation::CreateTable { table: users() }],
    )
}

/// A raw SQL step with per-dialect text and a reverse, and a Rust step.
fn seed_users() -> MigrationFile {
    file(
        "seed users",
        vec![
            Operation::Sql(RawSql {
                sql: Some("INSERT INTO users (name) VALUES ('root')".into()),
                postgres: Some(
                    "INSERT INTO users (name) VALUES ('root') ON CONFLICT DO NOTHING".into(),
                ),
                reverse: Some(SqlVariants {
                    sql: Some("DELETE FROM users WHERE name = 'root'".into()),
                    ..SqlVariants::default()
                }),
                ..RawSql::default()
            }),
            Operation::Rust {
                name: "data::seed".into(),
                reverse: Some("data::unseed".into()),
            },
        ],
    )
}

#[test]
fn expansion_of_a_small_folder() {
    let f = Folder::new("snapshot");
    f.write_all(&[
        ("0001_create_users.toml", create_users()),
        ("0002_seed_users.toml", seed_users()),
    ]);
    insta::assert_snapshot!(pretty(&f.expand()));
}

#[test]
fn an_empty_folder_embeds_nothing() {
    let f = Folder::new("empty");
    f.write_all(&[]);
    let out = pretty(&f.expand());
    assert!(
        out.contains("[::migrator::__private::EmbeddedMigration; 0usize] = []"),
        "{out}"
    );
    assert!(
        out.contains("include_bytes!(\"$ROOT/migrations/schema.toml\")"),
        "{out}"
    );
}

// ---- errors -----------------------------------------------------------------

#[test]
fn the_argument_must_be_a_string_literal() {
    for input in [quote!(migrations), quote!(), quote!("a", "b")] {
        let out = super::expand_embed_migrations(input).to_string();
        let message = compile_error_message(&out);
        assert_eq!(
            message,
            "expected a string literal: the migrations folder\nhelp: name the migrations folder, relative to the crate's `Cargo.toml`: `embed_migrations!(\"migrations\")`"
        );
        // The fallback keeps the type, so the `static` adds no error.
        assert!(out.contains("EmbeddedMigrations :: new"), "{out}");
    }
}

#[test]
fn a_missing_folder() {
    let f = Folder::new("missing");
    let lit = syn::LitStr::new("no/such", Span::call_site());
    let message = compile_error_message(&expand_in(&f.root, &lit).to_string());
    assert_eq!(
        message,
        "the migrations folder `no/such` does not exist\nhelp: the path is relative to the crate's `Cargo.toml`; `migrator init` creates the folder and its snapshot"
    );
}

#[test]
fn a_missing_snapshot() {
    let f = Folder::new("nosnap");
    f.write_all(&[("0001_create_users.toml", create_users())]);
    f.remove(SNAPSHOT_FILE);
    assert_eq!(
        f.error(),
        "`migrations/schema.toml` is missing\nhelp: `migrator init` writes it, and `migrator generate` keeps it up to date"
    );
}

#[test]
fn a_parse_error_names_file_and_line() {
    let f = Folder::new("parse");
    f.write_all(&[("0001_create_users.toml", create_users())]);
    f.write(
        "0002_broken.toml",
        "description = \"broken\"\n\n[[upgrade]]\nop = \"add_colum\"\n",
    );
    let e = f.error();
    assert!(
        e.starts_with("migrations/0002_broken.toml:4:6: unknown variant `add_colum`"),
        "{e}"
    );
}

#[test]
fn a_bad_file_name() {
    let f = Folder::new("name");
    f.write_all(&[("0001_create_users.toml", create_users())]);
    f.write("2_Oops.toml", "description = \"x\"\n");
    let e = f.error();
    assert!(
        e.starts_with("migrations/2_Oops.toml: `2_Oops.toml` is not a migration file name"),
        "{e}"
    );
}

#[test]
fn gaps_and_duplicates() {
    let f = Folder::new("gap");
    f.write_all(&[("0001_create_users.toml", create_users())]);
    f.write("0003_seed_users.toml", &seed_users().to_text("t"));
    let e = f.error();
    assert!(
        e.starts_with("migrations: migration number 0002 is missing: `0003_seed_users.toml` follows `0001_create_users.toml`"),
        "{e}"
    );

    let f = Folder::new("dup");
    f.write_all(&[("0001_create_users.toml", create_users())]);
    f.write("0001_seed_users.toml", &seed_users().to_text("t"));
    let e = f.error();
    assert!(
        e.starts_with("migrations: two migrations have number 0001: `0001_create_users.toml` and `0001_seed_users.toml`"),
        "{e}"
    );
}

#[test]
fn a_replay_that_differs_from_the_snapshot() {
    let f = Folder::new("replay");
    f.write_all(&[("0001_create_users.toml", create_users())]);
    let snap = std::fs::read_to_string(f.root.join("migrations").join(SNAPSHOT_FILE))
        .expect("reads")
        .replace("varchar(100)", "varchar(200)");
    f.write(SNAPSHOT_FILE, &snap);
    let e = f.error();
    assert!(
        e.starts_with(
            "migrations: replaying every migration does not give the snapshot `schema.toml`"
        ),
        "{e}"
    );
}

#[test]
fn a_downgrade_that_does_not_restore() {
    let f = Folder::new("down");
    let mut bad = create_users();
    bad.downgrade = vec![Operation::CreateTable {
        table: Table::new("other"),
    }];
    f.write("0001_create_users.toml", &bad.to_text("t"));
    f.write(SNAPSHOT_FILE, &snapshot_text(&[]));
    let e = f.error();
    assert!(
        e.starts_with("migrations/0001_create_users.toml: downgrade does not restore the schema before the upgrade"),
        "{e}"
    );
}

#[test]
fn an_edited_migration() {
    let f = Folder::new("edited");
    f.write_all(&[("0001_create_users.toml", create_users())]);
    let text = create_users().to_text("edited by hand");
    f.write("0001_create_users.toml", &text);
    let e = f.error();
    assert!(
        e.starts_with("migrations/0001_create_users.toml: this migration was edited after `migrator generate` wrote it"),
        "{e}"
    );
}

#[test]
fn a_rust_step_that_is_not_a_path() {
    let f = Folder::new("rustpath");
    f.write_all(&[("0001_create_users.toml", create_users())]);
    f.write(
        "0002_seed.toml",
        "description = \"seed\"\n\n[[upgrade]]\nop = \"rust\"\nname = \"data::seed all\"\n",
    );
    assert_eq!(
        f.error(),
        "migrations/0002_seed.toml:5:8: upgrade step 1: `name`: `data::seed all` is not a path to a Rust function\nhelp: name the `#[migration]` function by its path from the crate root, e.g. `name = \"data::backfill_priority\"`"
    );

    // Looks like a path, but a keyword is not an identifier: the macro's
    // own parse catches it, at the same line.
    let f = Folder::new("rustkw");
    let mut seed = seed_users();
    seed.upgrade[1] = Operation::Rust {
        name: "data::fn".into(),
        reverse: None,
    };
    seed.downgrade = Vec::new();
    f.write_all(&[
        ("0001_create_users.toml", create_users()),
        ("0002_seed.toml", seed),
    ]);
    let e = f.error();
    assert!(
        e.starts_with("migrations/0002_seed.toml:")
            && e.contains(": upgrade step 2: `data::fn` is not a path to a Rust function"),
        "{e}"
    );
}

#[test]
fn rust_steps_are_referenced_through_macros_named_after_the_step() {
    let f = Folder::new("rustref");
    f.write_all(&[
        ("0001_create_users.toml", create_users()),
        ("0002_seed_users.toml", seed_users()),
    ]);
    let out = pretty(&f.expand());
    assert!(
        out.contains("macro_rules! migration_0002_seed_users_upgrade_step_2_name {\n        () => {\n            crate ::data::seed\n        };\n    }"),
        "{out}"
    );
    assert!(
        out.contains("(\"data::unseed\", migration_0002_seed_users_upgrade_step_2_reverse!())"),
        "{out}"
    );
}

// ---- #[migration] -------------------------------------------------------------

/// The first line of each error of `#[migration]`.
fn attr_errors(args: TokenStream, item: TokenStream) -> Vec<String> {
    let out = expand_migration_attr(args, item).to_string();
    compile_errors(&out)
        .iter()
        .map(|m| m.lines().next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn migration_attr_keeps_the_function_and_checks_its_type() {
    let item = quote! {
        pub fn backfill(ctx: &mut migrator::RustStepContext<'_>) -> migrator::RustStepResult {
            Ok(())
        }
    };
    let out = expand_migration_attr(TokenStream::new(), item.clone()).to_string();
    assert!(out.starts_with(&item.to_string()), "{out}");
    assert!(
        out.contains("const _ : :: migrator :: __private :: RustStepFn = backfill ;"),
        "{out}"
    );
    assert!(!out.contains("compile_error"), "{out}");
}

#[test]
fn migration_attr_reports_every_syntax_problem() {
    assert_eq!(
        attr_errors(
            quote!(reverse = "x"),
            quote!(async unsafe fn f<T>(&self, a: i32) {})
        ),
        [
            "`#[migration]` takes no arguments",
            "a `#[migration]` function cannot be `async`: it runs inside the migration's transaction, on a blocking diesel connection",
            "a `#[migration]` function cannot be `unsafe`",
            "a `#[migration]` function cannot be generic",
            "a `#[migration]` function cannot be a method: it must be a free function, named by its path",
            "a `#[migration]` function returns `migrator::RustStepResult`, so that a failure rolls the migration back",
        ]
    );
    assert_eq!(
        attr_errors(
            TokenStream::new(),
            quote!(
                fn f() -> R {
                    todo!()
                }
            )
        ),
        ["a `#[migration]` function takes exactly one argument, the context (found 0)"]
    );
    assert_eq!(
        attr_errors(
            TokenStream::new(),
            quote!(
                fn f(a: A, b: B) -> R {
                    todo!()
                }
            )
        ),
        ["a `#[migration]` function takes exactly one argument, the context (found 2)"]
    );
    assert_eq!(
        attr_errors(
            TokenStream::new(),
            quote!(
                struct S;
            )
        ),
        ["`#[migration]` goes on a free function (not a method, not another item)"]
    );
}
