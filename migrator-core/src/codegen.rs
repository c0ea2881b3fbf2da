//! Rust expressions that rebuild migration data: a [`MigrationFile`], its
//! [`Operation`]s and the schema values they carry. The one code generator
//! for schema values, used by `#[derive(Model)]` (a table) and by
//! `embed_migrations!` (whole migration files).
//!
//! Contract: for every value `v`, evaluating the tokens of `v` in a crate
//! that depends on `migrator` gives a value equal to `v` (the "embedded
//! equals runtime" tests check it on whole folders). Every path is absolute
//! through the facade's `__private` module (docs/DESIGN.md §7.9), and every
//! struct is destructured, so a field added to the data fails to compile
//! here instead of being silently left out.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::migration::MigrationFile;
use crate::ops::{Backfill, BackfillReverse, Operation, RawSql, SqlVariants};
use crate::schema::{
    Check, Column, ColumnType, DefaultValue, ForeignKey, Index, RefAction, Table, Unique,
};

/// A plain function, not `String::from`: nothing for the compiler to
/// resolve, which counts with thousands of strings in an expansion.
fn string(s: &str) -> TokenStream {
    quote!(::migrator::__private::string(#s))
}

fn opt_string(s: &Option<String>) -> TokenStream {
    match s {
        Some(s) => {
            let s = string(s);
            quote!(::migrator::__private::Option::Some(#s))
        }
        None => quote!(::migrator::__private::Option::None),
    }
}

/// `Vec::from([..])` rather than `vec![..]`: a call, not a macro, so the
/// expansion snapshots are formatted, and there is no macro to expand.
fn vec(items: impl IntoIterator<Item = TokenStream>) -> TokenStream {
    let items: Vec<TokenStream> = items.into_iter().collect();
    if items.is_empty() {
        quote!(::migrator::__private::Vec::new())
    } else {
        quote!(::migrator::__private::Vec::from([#(#items),*]))
    }
}

fn strings(v: &[String]) -> TokenStream {
    vec(v.iter().map(|s| string(s)))
}

/// A whole migration file.
pub(crate) fn migration_file(f: &MigrationFile) -> TokenStream {
    let MigrationFile {
        description,
        transaction,
        generated_by,
        lock_timeout_ms,
        lock_waits,
        allow,
        squash_digest,
        upgrade,
        downgrade,
        replaces,
    } = f;
    let description = string(description);
    let generated_by = opt_string(generated_by);
    let lock_timeout_ms = match lock_timeout_ms {
        Some(ms) => quote!(::migrator::__private::Option::Some(#ms)),
        None => quote!(::migrator::__private::Option::None),
    };
    let lock_waits = opt_string(lock_waits);
    let allow = strings(allow);
    let squash_digest = opt_string(squash_digest);
    let replaces = vec(replaces.iter().map(|r| {
        let (v, n, c) = (r.version, string(&r.name), string(&r.checksum));
        quote!(::migrator::__private::Replaced { version: #v, name: #n, checksum: #c })
    }));
    // A downgrade that is the exact inverse of the upgrade (what `generate`
    // writes) is computed from it at run time: the same value, with half
    // the code for the compiler to build (a dropped table is not spelled
    // out a second time).
    // Compared by their debug text, which keeps the order of columns that
    // `==` ignores: the embedded downgrade must be the file's, exactly.
    let inverse = crate::ops::inverse_all(upgrade);
    let downgrade = if *downgrade == inverse && format!("{downgrade:?}") == format!("{inverse:?}") {
        quote!(::migrator::__private::inverse_all(&upgrade))
    } else {
        vec(downgrade.iter().map(operation))
    };
    let upgrade = vec(upgrade.iter().map(operation));
    quote! {{
        let upgrade = #upgrade;
        ::migrator::__private::MigrationFile {
            description: #description,
            transaction: #transaction,
            generated_by: #generated_by,
            lock_timeout_ms: #lock_timeout_ms,
            lock_waits: #lock_waits,
            allow: #allow,
            squash_digest: #squash_digest,
            downgrade: #downgrade,
            upgrade,
            replaces: #replaces,
        }
    }}
}

/// One operation.
pub(crate) fn operation(op: &Operation) -> TokenStream {
    let body = match op {
        Operation::CreateTable { table: t } => {
            let t = table(t);
            quote!(CreateTable { table: #t })
        }
        Operation::DropTable { table: t } => {
            let t = table(t);
            quote!(DropTable { table: #t })
        }
        Operation::RenameTable { from, to } => {
            let (from, to) = (string(from), string(to));
            quote!(RenameTable { from: #from, to: #to })
        }
        Operation::AddColumn { table, column: c } => {
            let (t, c) = (string(table), column(c));
            quote!(AddColumn { table: #t, column: #c })
        }
        Operation::DropColumn { table, column: c } => {
            let (t, c) = (string(table), column(c));
            quote!(DropColumn { table: #t, column: #c })
        }
        Operation::RenameColumn { table, from, to } => {
            let (t, from, to) = (string(table), string(from), string(to));
            quote!(RenameColumn { table: #t, from: #from, to: #to })
        }
        Operation::AlterColumn { table, from, to } => {
            let (t, from, to) = (string(table), column(from), column(to));
            quote!(AlterColumn { table: #t, from: #from, to: #to })
        }
        Operation::SetTableComment { table, from, to } => {
            let (t, from, to) = (string(table), opt_string(from), opt_string(to));
            quote!(SetTableComment { table: #t, from: #from, to: #to })
        }
        Operation::SetPrimaryKeyName { table, from, to } => {
            let (t, from, to) = (string(table), opt_string(from), opt_string(to));
            quote!(SetPrimaryKeyName { table: #t, from: #from, to: #to })
        }
        Operation::SetPrimaryKey { table, from, to } => {
            let (t, from, to) = (string(table), strings(from), strings(to));
            quote!(SetPrimaryKey { table: #t, from: #from, to: #to })
        }
        Operation::CreateIndex { table, index: i } => {
            let (t, i) = (string(table), index(i));
            quote!(CreateIndex { table: #t, index: #i })
        }
        Operation::DropIndex { table, index: i } => {
            let (t, i) = (string(table), index(i));
            quote!(DropIndex { table: #t, index: #i })
        }
        Operation::AddUnique { table, unique: u } => {
            let (t, u) = (string(table), unique(u));
            quote!(AddUnique { table: #t, unique: #u })
        }
        Operation::DropUnique { table, unique: u } => {
            let (t, u) = (string(table), unique(u));
            quote!(DropUnique { table: #t, unique: #u })
        }
        Operation::AddForeignKey {
            table,
            foreign_key: f,
        } => {
            let (t, f) = (string(table), foreign_key(f));
            quote!(AddForeignKey { table: #t, foreign_key: #f })
        }
        Operation::DropForeignKey {
            table,
            foreign_key: f,
        } => {
            let (t, f) = (string(table), foreign_key(f));
            quote!(DropForeignKey { table: #t, foreign_key: #f })
        }
        Operation::AddCheck { table, check: c } => {
            let (t, c) = (string(table), check(c));
            quote!(AddCheck { table: #t, check: #c })
        }
        Operation::DropCheck { table, check: c } => {
            let (t, c) = (string(table), check(c));
            quote!(DropCheck { table: #t, check: #c })
        }
        Operation::Sql(raw) => {
            let raw = raw_sql(raw);
            quote!(Sql(#raw))
        }
        Operation::Rust { name, reverse } => {
            let (name, reverse) = (string(name), opt_string(reverse));
            quote!(Rust { name: #name, reverse: #reverse })
        }
        Operation::Backfill(b) => {
            let b = backfill(b);
            quote!(Backfill(#b))
        }
        Operation::Archived(a) => {
            let archive = string(&a.archive);
            let fill = match &a.fill {
                Some(d) => {
                    let d = default_value(d);
                    quote!(::migrator::__private::Option::Some(#d))
                }
                None => quote!(::migrator::__private::Option::None),
            };
            let step = operation(&a.step);
            quote!(Archived(::migrator::__private::Archived {
                archive: #archive,
                fill: #fill,
                step: ::migrator::__private::Box::new(#step),
            }))
        }
    };
    quote!(::migrator::__private::Operation::#body)
}

fn backfill(b: &Backfill) -> TokenStream {
    let Backfill {
        table,
        set,
        predicate,
        batch_size,
        pause_ms,
        reverse,
    } = b;
    let (table, set, predicate) = (string(table), string(set), string(predicate));
    let reverse = match reverse {
        Some(BackfillReverse { set, predicate }) => {
            let (set, predicate) = (string(set), string(predicate));
            quote!(::migrator::__private::Option::Some(
                ::migrator::__private::BackfillReverse { set: #set, predicate: #predicate }
            ))
        }
        None => quote!(::migrator::__private::Option::None),
    };
    quote! {
        ::migrator::__private::Backfill {
            table: #table,
            set: #set,
            predicate: #predicate,
            batch_size: #batch_size,
            pause_ms: #pause_ms,
            reverse: #reverse,
        }
    }
}

fn raw_sql(r: &RawSql) -> TokenStream {
    let RawSql {
        sql,
        postgres,
        sqlite,
        mysql,
        reverse,
        transactional,
        effect,
    } = r;
    let (sql, postgres, sqlite, mysql) = (
        opt_string(sql),
        opt_string(postgres),
        opt_string(sqlite),
        opt_string(mysql),
    );
    let reverse = match reverse {
        Some(v) => {
            let v = sql_variants(v);
            quote!(::migrator::__private::Option::Some(#v))
        }
        None => quote!(::migrator::__private::Option::None),
    };
    let effect = vec(effect.iter().map(operation));
    quote! {
        ::migrator::__private::RawSql {
            sql: #sql,
            postgres: #postgres,
            sqlite: #sqlite,
            mysql: #mysql,
            reverse: #reverse,
            transactional: #transactional,
            effect: #effect,
        }
    }
}

fn sql_variants(v: &SqlVariants) -> TokenStream {
    let SqlVariants {
        sql,
        postgres,
        sqlite,
        mysql,
    } = v;
    let (sql, postgres, sqlite, mysql) = (
        opt_string(sql),
        opt_string(postgres),
        opt_string(sqlite),
        opt_string(mysql),
    );
    quote! {
        ::migrator::__private::SqlVariants {
            sql: #sql,
            postgres: #postgres,
            sqlite: #sqlite,
            mysql: #mysql,
        }
    }
}

/// A table (also what `#[derive(Model)]` needs; see `model/expand.rs`).
pub(crate) fn table(t: &Table) -> TokenStream {
    let Table {
        name,
        comment,
        collation,
        columns,
        primary_key,
        primary_key_name,
        strict,
        without_rowid,
        indexes,
        uniques,
        foreign_keys,
        checks,
    } = t;
    let name = string(name);
    let comment = opt_string(comment);
    let collation = opt_string(collation);
    let columns = vec(columns.iter().map(column));
    let primary_key = strings(primary_key);
    let primary_key_name = opt_string(primary_key_name);
    let indexes = vec(indexes.iter().map(index));
    let uniques = vec(uniques.iter().map(unique));
    let foreign_keys = vec(foreign_keys.iter().map(foreign_key));
    let checks = vec(checks.iter().map(check));
    quote! {
        ::migrator::__private::Table {
            name: #name,
            comment: #comment,
            collation: #collation,
            columns: #columns,
            primary_key: #primary_key,
            primary_key_name: #primary_key_name,
            strict: #strict,
            without_rowid: #without_rowid,
            indexes: #indexes,
            uniques: #uniques,
            foreign_keys: #foreign_keys,
            checks: #checks,
        }
    }
}

fn column(c: &Column) -> TokenStream {
    let Column {
        name,
        ty,
        nullable,
        default,
        auto_increment,
        collation,
        comment,
        on_update,
        identity_start,
        identity_increment,
        identity_always,
    } = c;
    // The common column (no default, collation, comment, `ON UPDATE` or
    // identity options) as one call: a tenth of the tokens of the literal.
    if default.is_none()
        && collation.is_none()
        && comment.is_none()
        && on_update.is_none()
        && identity_start.is_none()
        && identity_increment.is_none()
        && !identity_always
    {
        let ty = column_type(ty);
        return quote!(::migrator::__private::column(#name, #ty, #nullable, #auto_increment));
    }
    let opt_int = |v: &Option<i64>| match v {
        Some(n) => quote!(::migrator::__private::Option::Some(#n)),
        None => quote!(::migrator::__private::Option::None),
    };
    let (identity_start, identity_increment) =
        (opt_int(identity_start), opt_int(identity_increment));
    let name = string(name);
    let (collation, comment, on_update) = (
        opt_string(collation),
        opt_string(comment),
        opt_string(on_update),
    );
    let ty = column_type(ty);
    let default = match default {
        Some(d) => {
            let d = default_value(d);
            quote!(::migrator::__private::Option::Some(#d))
        }
        None => quote!(::migrator::__private::Option::None),
    };
    quote! {
        ::migrator::__private::Column {
            name: #name,
            ty: #ty,
            nullable: #nullable,
            default: #default,
            auto_increment: #auto_increment,
            collation: #collation,
            comment: #comment,
            on_update: #on_update,
            identity_start: #identity_start,
            identity_increment: #identity_increment,
            identity_always: #identity_always,
        }
    }
}

fn column_type(ty: &ColumnType) -> TokenStream {
    let variant = match ty {
        ColumnType::SmallInt => quote!(SmallInt),
        ColumnType::Integer => quote!(Integer),
        ColumnType::BigInt => quote!(BigInt),
        ColumnType::Real => quote!(Real),
        ColumnType::Double => quote!(Double),
        ColumnType::Boolean => quote!(Boolean),
        ColumnType::Text => quote!(Text),
        ColumnType::Varchar(n) => {
            let n = Literal::u32_suffixed(*n);
            quote!(Varchar(#n))
        }
        ColumnType::Blob => quote!(Blob),
        ColumnType::Date => quote!(Date),
        ColumnType::Time => quote!(Time),
        ColumnType::Timestamp => quote!(Timestamp),
        ColumnType::TimestampTz => quote!(TimestampTz),
        ColumnType::Uuid => quote!(Uuid),
        ColumnType::Json => quote!(Json),
        ColumnType::Custom(sql) => {
            let sql = string(sql);
            quote!(Custom(#sql))
        }
    };
    quote!(::migrator::__private::ColumnType::#variant)
}

fn default_value(d: &DefaultValue) -> TokenStream {
    let value = match d {
        // A literal token is never negative: the sign is a separate token.
        DefaultValue::Int(v) => {
            let abs = Literal::u64_unsuffixed(v.unsigned_abs());
            let sign = (*v < 0).then(|| quote!(-));
            quote!(Int(#sign #abs))
        }
        DefaultValue::Float(v) => {
            // TOML has `inf` and `nan`, which have no Rust literal.
            if v.is_nan() {
                quote!(Float(::core::f64::NAN))
            } else if v.is_infinite() {
                let sign = v.is_sign_negative().then(|| quote!(-));
                quote!(Float(#sign ::core::f64::INFINITY))
            } else {
                let abs = Literal::f64_unsuffixed(v.abs());
                let sign = v.is_sign_negative().then(|| quote!(-));
                quote!(Float(#sign #abs))
            }
        }
        DefaultValue::Bool(b) => quote!(Bool(#b)),
        DefaultValue::Str(s) => {
            let s = string(s);
            quote!(Str(#s))
        }
        DefaultValue::Sql(s) => {
            let s = string(s);
            quote!(Sql(#s))
        }
    };
    quote!(::migrator::__private::DefaultValue::#value)
}

fn index(i: &Index) -> TokenStream {
    let Index { name, columns } = i;
    let name = string(name);
    let columns = strings(columns);
    quote!(::migrator::__private::Index { name: #name, columns: #columns })
}

fn unique(u: &Unique) -> TokenStream {
    let Unique {
        name,
        columns,
        nulls_not_distinct,
    } = u;
    let name = string(name);
    let columns = strings(columns);
    quote!(::migrator::__private::Unique { name: #name, columns: #columns, nulls_not_distinct: #nulls_not_distinct })
}

fn foreign_key(f: &ForeignKey) -> TokenStream {
    let ForeignKey {
        name,
        columns,
        ref_table,
        ref_columns,
        on_delete,
        on_update,
    } = f;
    let name = string(name);
    let columns = strings(columns);
    let ref_table = string(ref_table);
    let ref_columns = strings(ref_columns);
    let on_delete = ref_action(*on_delete);
    let on_update = ref_action(*on_update);
    quote! {
        ::migrator::__private::ForeignKey {
            name: #name,
            columns: #columns,
            ref_table: #ref_table,
            ref_columns: #ref_columns,
            on_delete: #on_delete,
            on_update: #on_update,
        }
    }
}

fn check(c: &Check) -> TokenStream {
    let Check { name, expr } = c;
    let name = string(name);
    let expr = string(expr);
    quote!(::migrator::__private::Check { name: #name, expr: #expr })
}

fn ref_action(a: RefAction) -> TokenStream {
    let variant = match a {
        RefAction::NoAction => quote!(NoAction),
        RefAction::Restrict => quote!(Restrict),
        RefAction::Cascade => quote!(Cascade),
        RefAction::SetNull => quote!(SetNull),
        RefAction::SetDefault => quote!(SetDefault),
    };
    quote!(::migrator::__private::RefAction::#variant)
}

#[cfg(test)]
mod tests {
    use super::migration_file;
    use crate::migration::MigrationFile;
    use crate::ops::{inverse_all, Operation};
    use crate::schema::{Column, ColumnType, Table};

    fn users(columns: &[&str]) -> Table {
        let mut t = Table::new("users");
        for c in columns {
            t.columns.push(Column::new(*c, ColumnType::BigInt));
        }
        t
    }

    /// A downgrade is computed from the upgrade only when it is exactly its
    /// inverse: one that differs only in the order of columns (which `==`
    /// ignores) is embedded as written.
    #[test]
    fn only_an_exact_inverse_is_computed_at_run_time() {
        let upgrade = vec![Operation::DropTable {
            table: users(&["id", "a", "b"]),
        }];
        let exact = MigrationFile::new("drop users", upgrade.clone(), inverse_all(&upgrade));
        let text = migration_file(&exact).to_string();
        assert!(text.contains("inverse_all (& upgrade)"), "{text}");

        let reordered = vec![Operation::CreateTable {
            table: users(&["id", "b", "a"]),
        }];
        assert_eq!(reordered, inverse_all(&upgrade), "equal, as `==` sees it");
        let written = MigrationFile::new("drop users", upgrade, reordered);
        let text = migration_file(&written).to_string();
        assert!(!text.contains("inverse_all"), "{text}");
        let down = &text[text.find("downgrade").expect("a downgrade")..];
        let (b, a) = (
            down.find("\"b\"").expect("b"),
            down.find("\"a\"").expect("a"),
        );
        assert!(b < a, "the downgrade's own order: {down}");
    }
}
