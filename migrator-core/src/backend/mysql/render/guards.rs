//! MySQL/MariaDB catalog guards: the `information_schema` queries behind
//! the `skip_if` of each rendered statement (scoped to `DATABASE()`) and
//! the refusals of a column drop that would lose what depends on it.

use super::D;
use crate::schema::Schema;

/// The check before `DROP COLUMN`: one row for each object outside the
/// model that uses the column. MySQL/MariaDB drop the column silently from
/// an index (a multi-column index loses it, a functional or prefix index
/// outside the model goes), and leave views and triggers that name it
/// broken (a view then fails with error 1356). Views are matched by the
/// quoted name in their stored definition (the server stores them with
/// quoted, qualified names), triggers and generated columns by the name as
/// a word in their text; a match by text errs towards refusing.
pub(super) fn drop_column_dependents(before: &Schema, table: &str, column: &str) -> String {
    let mut known: Vec<String> = vec!["PRIMARY".into()];
    if let Some(t) = before.table(table) {
        known.extend(t.indexes.iter().map(|i| i.name.clone()));
        known.extend(t.uniques.iter().map(|u| u.name.clone()));
        known.extend(t.foreign_keys.iter().map(|f| f.name.clone()));
    }
    let known = known
        .iter()
        .map(|n| D.string(n))
        .collect::<Vec<_>>()
        .join(", ");
    let t = D.string(table);
    let c = D.string(column);
    let quoted = D.string(&format!(".{}", D.ident(column)));
    // A word: the name not preceded or followed by an identifier character.
    let escaped: String = column
        .chars()
        .flat_map(|ch| {
            let special = "\\.^$|?*+()[]{}".contains(ch);
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(ch))
        })
        .collect();
    let word = D.string(&format!("(^|[^a-zA-Z0-9_$]){escaped}([^a-zA-Z0-9_$]|$)"));
    format!(
        "SELECT CONCAT('index ', index_name) AS s FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = {t} AND column_name = {c} AND index_name NOT IN ({known}) \
UNION ALL SELECT CONCAT('view ', table_name) AS s FROM information_schema.views WHERE table_schema = DATABASE() AND LOCATE(LOWER({quoted}), LOWER(view_definition)) > 0 AND LOCATE(LOWER({}), LOWER(view_definition)) > 0 \
UNION ALL SELECT CONCAT('trigger ', trigger_name) AS s FROM information_schema.triggers WHERE trigger_schema = DATABASE() AND event_object_table = {t} AND LOWER(action_statement) REGEXP LOWER({word}) \
UNION ALL SELECT CONCAT('generated column ', column_name) AS s FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = {t} AND column_name <> {c} AND COALESCE(generation_expression, '') <> '' AND LOWER(generation_expression) REGEXP LOWER({word})",
        D.string(&D.ident(table)),
    )
}

fn where_table(table: &str) -> String {
    format!(
        "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = {}",
        D.string(table)
    )
}

/// Returns a row when the table exists (also `Backend::table_exists_sql`).
pub(in crate::backend) fn table_query(table: &str) -> String {
    format!(
        "SELECT 1 FROM information_schema.TABLES WHERE {}",
        where_table(table)
    )
}

pub(in crate::backend) fn column_query(table: &str, column: &str) -> String {
    format!(
        "SELECT 1 FROM information_schema.COLUMNS WHERE {} AND COLUMN_NAME = {}",
        where_table(table),
        D.string(column)
    )
}

/// A row per column of index `name` (unique constraints and the primary key,
/// `PRIMARY`, are indexes too).
pub(super) fn index_query(table: &str, name: &str) -> String {
    format!(
        "SELECT 1 FROM information_schema.STATISTICS WHERE {} AND INDEX_NAME = {}",
        where_table(table),
        D.string(name)
    )
}

pub(crate) fn constraint_query(table: &str, name: &str, kind: &str) -> String {
    format!(
        "SELECT 1 FROM information_schema.TABLE_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = {} AND CONSTRAINT_NAME = {} AND CONSTRAINT_TYPE = {}",
        D.string(table),
        D.string(name),
        D.string(kind)
    )
}

/// A row when the primary key of `table` is exactly `columns`, in order: as
/// many key columns as wanted, each at its position.
pub(super) fn primary_key_query(table: &str, columns: &[String]) -> String {
    let stats = format!(
        "information_schema.STATISTICS WHERE {} AND INDEX_NAME = 'PRIMARY'",
        where_table(table)
    );
    let positions = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                "(SEQ_IN_INDEX = {} AND COLUMN_NAME = {})",
                i + 1,
                D.string(c)
            )
        })
        .collect::<Vec<_>>()
        .join(" OR ");
    let n = columns.len();
    format!(
        "SELECT 1 FROM DUAL WHERE (SELECT COUNT(*) FROM {stats}) = {n} AND (SELECT COUNT(*) FROM {stats} AND ({positions})) = {n}"
    )
}

pub(super) fn not_exists(query: &str) -> String {
    format!("SELECT 1 FROM DUAL WHERE NOT EXISTS ({query})")
}
