//! Names over PostgreSQL's identifier limit.
//!
//! A model accepts table, column and object names of up to 64 bytes, what
//! MySQL and MariaDB keep (SQLite has no limit). PostgreSQL keeps 63 and
//! would silently cut a longer name, so where PostgreSQL is one of the
//! project's databases (it declares it in `dialects`, or declares none) a
//! 64-byte name is refused: by the derive, at the name's declaration, and
//! by `generate`/`check`, at the model.

use super::drift::Subject;
use super::ModelDef;
use crate::dialect::Dialect;
use crate::schema::naming::MAX_IDENT_BYTES;

/// Whether names must fit PostgreSQL: it is declared, or nothing is.
pub fn postgres_targeted(dialects: &[Dialect]) -> bool {
    dialects.is_empty() || dialects.contains(&Dialect::Postgres)
}

/// Every name of `def` that PostgreSQL would cut, with where it is declared
/// and the message.
pub(crate) fn too_long_for_postgres(def: &ModelDef) -> Vec<(Subject, String)> {
    let t = &def.table;
    let mut out = Vec::new();
    let mut push = |subject: Subject, what: &str, name: &str| {
        if name.len() > MAX_IDENT_BYTES {
            out.push((
                subject,
                format!(
                    "the {what} name `{name}` is {} bytes: PostgreSQL keeps {MAX_IDENT_BYTES} and would cut it\nhelp: give it a shorter name, or, if the project only targets MySQL/MariaDB (64) and SQLite, declare `dialects = [\"mysql\"]` (or with \"sqlite\") in {}",
                    name.len(),
                    crate::config::CONFIG_FILE
                ),
            ));
        }
    };
    push(Subject::Table, "table", &t.name);
    for c in &t.columns {
        push(Subject::Column(c.name.clone()), "column", &c.name);
    }
    for name in t.object_names() {
        push(Subject::Object(name.to_string()), "object", name);
    }
    out
}
