//! The checks that need every model: one model per table, foreign keys
//! that reference a modelled primary key or unique column of a compatible
//! type, and object names unique across the schema.

use std::collections::BTreeMap;

use super::super::ctxt::{backticked, did_you_mean, with_help};
use super::super::{ModelError, Models};
use super::{at_pos, file_of, IndexNames, Located};
use crate::schema::{ColumnType, Table};

/// The checks that need every model, and the result.
pub(super) fn build(
    parsed: Vec<Located>,
    index_names: IndexNames,
    errors: &mut Vec<ModelError>,
) -> Models {
    // Table name -> index of the first model mapping to it.
    let mut owners: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, model) in parsed.iter().enumerate() {
        let name = model.def.table.name.as_str();
        if let Some(&first) = owners.get(name) {
            let first = &parsed[first];
            errors.push(at_pos(
                &file_of(model),
                model.table,
                with_help(
                    format!(
                        "`{}` maps to the table `{name}`, which is already the table of `{}` ({}:{})",
                        model.def.struct_name,
                        first.def.struct_name,
                        file_of(first).display(),
                        first.def.line
                    ),
                    "give one of them another name with `#[model(table = \"...\")]`",
                ),
            ));
        } else {
            owners.insert(name, i);
        }
    }
    let tables: BTreeMap<&str, &Table> = owners
        .iter()
        .map(|(name, i)| (*name, &parsed[*i].def.table))
        .collect();

    for model in &parsed {
        check_foreign_keys(model, &tables, errors);
    }
    check_object_names(&parsed, &tables, index_names, errors);

    let mut models = Models::default();
    for model in parsed {
        let table = model.def.table.name.clone();
        if let Some(old) = &model.def.renamed_from {
            models.hints.tables.insert(table.clone(), old.clone());
        }
        for (new, old) in &model.def.column_renames {
            models
                .hints
                .columns
                .insert((table.clone(), new.clone()), old.clone());
        }
        for k in &model.def.kept {
            models.hints.kept.insert((table.clone(), k.clone()));
        }
        if !models.schema.tables.contains_key(&table) {
            models.schema.insert(model.def.table.clone());
        }
        models.defs.push(model.def);
    }
    models.schema.normalize();
    models
}

fn check_foreign_keys(
    model: &Located,
    tables: &BTreeMap<&str, &Table>,
    errors: &mut Vec<ModelError>,
) {
    let file = file_of(model);
    let table = &model.def.table;
    for fk in &table.foreign_keys {
        let pos = model
            .foreign_keys
            .get(&fk.name)
            .copied()
            .unwrap_or(model.ident);
        let mut error = |message: String| errors.push(at_pos(&file, pos, message));
        let Some(target) = tables.get(fk.ref_table.as_str()) else {
            let guess = did_you_mean(&fk.ref_table, tables.keys().copied())
                .map(|g| format!("did you mean `{g}`? "))
                .unwrap_or_default();
            error(with_help(
                format!("foreign key to unknown table `{}`", fk.ref_table),
                format!(
                    "{guess}the tables of the models are {}",
                    backticked(tables.keys())
                ),
            ));
            continue;
        };
        for (col, ref_col) in fk.columns.iter().zip(&fk.ref_columns) {
            let Some(referenced) = target.column(ref_col) else {
                let names = target.columns.iter().map(|c| c.name.as_str());
                let guess = did_you_mean(ref_col, names.clone())
                    .map(|g| format!("did you mean `{g}`? "))
                    .unwrap_or_default();
                error(with_help(
                    format!(
                        "foreign key to unknown column `{ref_col}` of table `{}`",
                        target.name
                    ),
                    format!(
                        "{guess}the columns of `{}` are {}",
                        target.name,
                        backticked(names)
                    ),
                ));
                continue;
            };
            let Some(own) = table.column(col) else {
                continue;
            };
            if !compatible(&own.ty, &referenced.ty) {
                error(with_help(
                    format!(
                        "foreign key column `{}.{col}` is `{}` but `{}.{ref_col}` is `{}`",
                        table.name, own.ty, target.name, referenced.ty
                    ),
                    "give both columns the same type",
                ));
            }
        }
        let keyed = target.primary_key == fk.ref_columns
            || target.uniques.iter().any(|u| u.columns == fk.ref_columns);
        if !keyed && fk.ref_columns.iter().all(|c| target.column(c).is_some()) {
            error(with_help(
                format!(
                    "foreign key to `{}.{}`, which is neither the primary key of `{}` nor unique",
                    target.name,
                    fk.ref_columns.join(", "),
                    target.name
                ),
                "reference the primary key, or add `#[model(unique)]` to the referenced field",
            ));
        }
    }
}

/// Types a foreign key may join: equal, both textual (PostgreSQL compares
/// `varchar` and `text` directly), or an `sql_type` we cannot judge.
fn compatible(a: &ColumnType, b: &ColumnType) -> bool {
    use ColumnType as T;
    a == b
        || matches!((a, b), (T::Text | T::Varchar(_), T::Text | T::Varchar(_)))
        || matches!(a, T::Custom(_))
        || matches!(b, T::Custom(_))
}

/// Index and constraint names must be unique across the database (indexes
/// share PostgreSQL's relation namespace with tables; MySQL wants foreign
/// key and check names unique per schema). Under [`IndexNames::PerTable`]
/// index and unique names only have to differ within their table, and
/// tables have a namespace of their own. Duplicates within one table were
/// reported by `lower`.
fn check_object_names(
    parsed: &[Located],
    tables: &BTreeMap<&str, &Table>,
    index_names: IndexNames,
    errors: &mut Vec<ModelError>,
) {
    let per_table = index_names == IndexNames::PerTable;
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for model in parsed {
        let def = &model.def.table;
        let table = def.name.as_str();
        for (name, pos) in &model.objects {
            let is_index = def.indexes.iter().any(|i| &i.name == name)
                || def.uniques.iter().any(|u| &u.name == name);
            if per_table && is_index {
                continue;
            }
            let clash = if !per_table && tables.contains_key(name.as_str()) {
                Some(format!("the table `{name}`"))
            } else {
                seen.get(name.as_str())
                    .filter(|owner| **owner != table)
                    .map(|owner| format!("an object of table `{owner}`"))
            };
            if let Some(clash) = clash {
                let help = if per_table {
                    "MySQL wants foreign key and check names unique across the database: name one yourself with the struct-level `foreign_key(name = \"..\", columns = \"..\", references = \"..\")` or `check(name = \"..\", expr = \"..\")`".to_string()
                } else if is_index {
                    format!("default names are `idx_<table>_<columns>` and `uq_<table>_<columns>`; name one yourself with the struct-level `index(name = \"..\", columns = \"..\")`, or, if the project only targets MySQL/MariaDB (where index names are per table), declare `dialects = [\"mysql\"]` in {}", crate::config::CONFIG_FILE)
                } else {
                    "default names are `idx_<table>_<columns>`, `uq_<table>_<columns>`, `fk_<table>_<column>` and `ck_<table>_<hash>`: rename a table or column so that they differ".to_string()
                };
                errors.push(at_pos(
                    &file_of(model),
                    *pos,
                    with_help(
                        format!("the name `{name}` of this object of table `{table}` is already used by {clash}"),
                        help,
                    ),
                ));
            } else {
                seen.insert(name, table);
            }
        }
    }
}
