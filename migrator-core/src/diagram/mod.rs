//! Pictures of a schema: Mermaid ER text and a self-contained SVG/HTML page.
//!
//! Everything here is pure: a [`Schema`] (or two, for the change a migration
//! makes) in, text out, the same text for the same input. [`View`] is what
//! is drawn: tables in name order, columns in declaration order with their
//! key markers, one edge per foreign key, and, for a change, a mark on each
//! table, column and edge (added, dropped, changed). `mermaid.rs` writes it
//! as an `erDiagram`, `svg.rs` lays it out (by foreign-key layers, parents
//! to the left) and draws it, and wraps it in an HTML page whose inline
//! script checks the boxes once the browser has laid them out.

mod mermaid;
mod svg;

#[cfg(test)]
mod tests;

use crate::schema::{Column, Schema, Table};

/// What a change did to a table, column or foreign key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Unchanged (or no change is being shown).
    Same,
    Added,
    Dropped,
    Changed,
}

impl Mark {
    /// The CSS class (`added`, `dropped`, `changed`), none for `Same`.
    pub fn class(self) -> Option<&'static str> {
        match self {
            Mark::Same => None,
            Mark::Added => Some("added"),
            Mark::Dropped => Some("dropped"),
            Mark::Changed => Some("changed"),
        }
    }
}

/// Everything drawn of a schema, or of the change between two.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    /// In name order.
    pub tables: Vec<TableView>,
    /// The steps of the migration shown (one line each), empty for a plain
    /// schema.
    pub steps: Vec<String>,
    /// True for a before/after view (a legend is drawn).
    pub is_change: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableView {
    pub name: String,
    pub mark: Mark,
    /// Declaration order; in a change, the columns the migration dropped
    /// follow the others.
    pub columns: Vec<ColumnView>,
    /// In foreign key name order.
    pub foreign_keys: Vec<EdgeView>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnView {
    pub name: String,
    /// The portable type's text (`bigint`, `varchar(200)`, `NUMERIC(12, 2)`).
    pub ty: String,
    pub primary_key: bool,
    pub foreign_key: bool,
    /// Part of a unique constraint.
    pub unique: bool,
    pub not_null: bool,
    pub mark: Mark,
    /// For a changed column: what it was (`varchar(20) NOT NULL`).
    pub was: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EdgeView {
    pub name: String,
    pub columns: Vec<String>,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    /// Some referencing column may be NULL: a row may have no parent.
    pub optional: bool,
    /// The referencing columns are unique: at most one row per parent.
    pub one_to_one: bool,
    pub mark: Mark,
}

impl ColumnView {
    /// The key markers that hold, in order: `PK`, `FK`, `UNIQUE`.
    pub fn keys(&self) -> impl Iterator<Item = &'static str> {
        [
            (self.primary_key, "PK"),
            (self.foreign_key, "FK"),
            (self.unique, "UNIQUE"),
        ]
        .into_iter()
        .filter_map(|(on, key)| on.then_some(key))
    }

    /// The markers as shown in a box: `PK FK UNIQUE NOT NULL`.
    pub fn markers(&self) -> String {
        let mut m: Vec<&str> = self.keys().collect();
        if self.not_null {
            m.push("NOT NULL");
        }
        m.join(" ")
    }

    /// Type and markers in one line, to say what a changed column was.
    fn summary(&self) -> String {
        let m = self.markers();
        if m.is_empty() {
            self.ty.clone()
        } else {
            format!("{} {m}", self.ty)
        }
    }
}

/// The type as shown: the snapshot's text, without the `sql:` prefix of a
/// verbatim SQL type.
fn type_text(c: &Column) -> String {
    let t = c.ty.to_string();
    match t.strip_prefix("sql:") {
        Some(sql) => sql.to_string(),
        None => t,
    }
}

fn column_view(t: &Table, c: &Column, mark: Mark) -> ColumnView {
    let has = |cols: &[String]| cols.contains(&c.name);
    ColumnView {
        name: c.name.clone(),
        ty: type_text(c),
        primary_key: has(&t.primary_key),
        foreign_key: t.foreign_keys.iter().any(|f| has(&f.columns)),
        unique: t.uniques.iter().any(|u| has(&u.columns)),
        not_null: !c.nullable,
        mark,
        was: None,
    }
}

fn edges(t: &Table, mark: Mark) -> Vec<EdgeView> {
    let mut out: Vec<EdgeView> = t
        .foreign_keys
        .iter()
        .map(|f| {
            let mut cols = f.columns.clone();
            cols.sort();
            let unique = |key: &[String]| {
                let mut k = key.to_vec();
                k.sort();
                !k.is_empty() && k == cols
            };
            EdgeView {
                name: f.name.clone(),
                columns: f.columns.clone(),
                ref_table: f.ref_table.clone(),
                ref_columns: f.ref_columns.clone(),
                optional: f
                    .columns
                    .iter()
                    .any(|n| t.column(n).is_none_or(|c| c.nullable)),
                one_to_one: unique(&t.primary_key) || t.uniques.iter().any(|u| unique(&u.columns)),
                mark,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn table_view(t: &Table, mark: Mark) -> TableView {
    TableView {
        name: t.name.clone(),
        mark,
        columns: t.columns.iter().map(|c| column_view(t, c, mark)).collect(),
        foreign_keys: edges(t, mark),
    }
}

impl View {
    /// A schema as it is, nothing marked.
    pub fn of(schema: &Schema) -> View {
        View {
            tables: schema
                .tables
                .values()
                .map(|t| table_view(t, Mark::Same))
                .collect(),
            steps: Vec::new(),
            is_change: false,
        }
    }

    /// The change from `before` to `after` in one picture: every table of
    /// either, what only `after` has marked added, what only `before` has
    /// marked dropped (kept in the picture, struck through), and a column,
    /// edge or table that differs marked changed. `steps` are the
    /// migration's steps in words.
    pub fn change(before: &Schema, after: &Schema, steps: Vec<String>) -> View {
        let mut names: Vec<&String> = before.tables.keys().chain(after.tables.keys()).collect();
        names.sort();
        names.dedup();
        let tables = names
            .into_iter()
            .map(|name| match (before.table(name), after.table(name)) {
                (None, Some(a)) => table_view(a, Mark::Added),
                (Some(b), None) => table_view(b, Mark::Dropped),
                (Some(b), Some(a)) => changed_table(b, a),
                (None, None) => unreachable!("the name came from one of them"),
            })
            .collect();
        View {
            tables,
            steps,
            is_change: true,
        }
    }

    /// Mermaid `erDiagram` text (see `mermaid.rs`).
    pub fn mermaid(&self) -> String {
        mermaid::render(self)
    }

    /// A standalone SVG document.
    pub fn svg(&self) -> String {
        svg::document(self)
    }

    /// A self-contained HTML page: inline SVG and CSS, no external
    /// resource, and a script that checks the laid-out boxes.
    pub fn html(&self, title: &str) -> String {
        svg::page(self, title)
    }
}

fn changed_table(b: &Table, a: &Table) -> TableView {
    let before: Vec<ColumnView> = b
        .columns
        .iter()
        .map(|c| column_view(b, c, Mark::Same))
        .collect();
    let mut columns: Vec<ColumnView> = a
        .columns
        .iter()
        .map(|c| {
            let mut v = column_view(a, c, Mark::Same);
            match before.iter().find(|o| o.name == c.name) {
                None => v.mark = Mark::Added,
                Some(old) => {
                    let was_col = b.column(&c.name);
                    if old.summary() != v.summary() || was_col != Some(c) {
                        v.mark = Mark::Changed;
                        v.was = Some(old.summary());
                    }
                }
            }
            v
        })
        .collect();
    for old in &before {
        if a.column(&old.name).is_none() {
            let mut v = old.clone();
            v.mark = Mark::Dropped;
            columns.push(v);
        }
    }
    let old_edges = edges(b, Mark::Same);
    let mut fks: Vec<EdgeView> = edges(a, Mark::Same)
        .into_iter()
        .map(|mut e| {
            match old_edges.iter().find(|o| o.name == e.name) {
                None => e.mark = Mark::Added,
                Some(o) if *o != e => e.mark = Mark::Changed,
                Some(_) => {}
            }
            e
        })
        .collect();
    for o in old_edges {
        if !fks.iter().any(|e| e.name == o.name) {
            fks.push(EdgeView {
                mark: Mark::Dropped,
                ..o
            });
        }
    }
    fks.sort_by(|x, y| x.name.cmp(&y.name));
    let mark = if b == a { Mark::Same } else { Mark::Changed };
    TableView {
        name: a.name.clone(),
        mark,
        columns,
        foreign_keys: fks,
    }
}

/// Mermaid ER text of a schema: one entity per table, one relationship per
/// foreign key, in name order.
pub fn mermaid(schema: &Schema) -> String {
    View::of(schema).mermaid()
}

/// A standalone SVG picture of a schema.
pub fn svg(schema: &Schema) -> String {
    View::of(schema).svg()
}

/// A self-contained HTML page showing a schema.
pub fn html(schema: &Schema, title: &str) -> String {
    View::of(schema).html(title)
}
