//! The diesel features a model's fields need in typed queries.
//!
//! A struct that carries `#[diesel(..)]` (it derives diesel's traits next
//! to `Model`) is read and written through diesel, and diesel maps
//! `chrono`, `serde_json` and `uuid` values, and `bigdecimal::BigDecimal`
//! (`numeric`), only with its features of those names. Without the feature, diesel's own error is a trait bound deep in
//! its derive's expansion; this check names the field and the feature
//! instead. The proc-macro crate knows which features the `migrator` crate
//! turned on (each of its features `chrono`, `serde_json`, `uuid`,
//! `numeric` turns on diesel's and tells the macro), and passes them in as
//! [`DieselFeatures`]. (`rust_decimal::Decimal` brings its own diesel
//! mapping, behind that crate's `db-diesel-postgres` / `db-diesel-mysql`
//! features, which a macro cannot see.)
//! A struct without `#[diesel(..)]` maps these types for migrations alone,
//! with no feature.

use proc_macro2::TokenStream;

use super::ast::{type_to_string, Model, RustKind};
use super::ctxt::{with_help, Ctxt};

/// The diesel features the `migrator` crate turned on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DieselFeatures {
    pub chrono: bool,
    pub serde_json: bool,
    pub uuid: bool,
    pub numeric: bool,
}

impl DieselFeatures {
    /// Every feature: no field is refused.
    pub const ALL: DieselFeatures = DieselFeatures {
        chrono: true,
        serde_json: true,
        uuid: true,
        numeric: true,
    };
}

/// The feature a field of `kind` (or, for a type with no kind of its own,
/// of type `ty`) needs, and whether it is on.
fn needs(
    kind: Option<RustKind>,
    ty: &syn::Type,
    on: DieselFeatures,
) -> Option<(&'static str, bool)> {
    let Some(kind) = kind else {
        return is_big_decimal(ty).then_some(("numeric", on.numeric));
    };
    match kind {
        RustKind::Date | RustKind::Time | RustKind::DateTime | RustKind::DateTimeTz => {
            Some(("chrono", on.chrono))
        }
        RustKind::Json => Some(("serde_json", on.serde_json)),
        RustKind::Uuid => Some(("uuid", on.uuid)),
        _ => None,
    }
}

/// `bigdecimal::BigDecimal` (or `BigDecimal` imported), the type diesel's
/// `numeric` feature maps.
fn is_big_decimal(ty: &syn::Type) -> bool {
    let syn::Type::Path(p) = ty else {
        return false;
    };
    let segs = &p.path.segments;
    let Some(last) = segs.last() else {
        return false;
    };
    last.ident == "BigDecimal"
        && last.arguments.is_none()
        && (segs.len() == 1 || segs[segs.len() - 2].ident == "bigdecimal")
}

/// A spanned error for each field of a diesel-derived struct whose type
/// needs a feature that is off; nothing when the input is no model (the
/// derive reports that).
pub fn diesel_feature_errors(input: &syn::DeriveInput, on: DieselFeatures) -> TokenStream {
    if !input.attrs.iter().any(|a| a.path().is_ident("diesel")) {
        return TokenStream::new();
    }
    // The derive reports every attribute error; this pass only looks.
    let quiet = Ctxt::new();
    let model = Model::from_input(&quiet, input);
    let _ = quiet.check();
    let Some(model) = model else {
        return TokenStream::new();
    };
    let cx = Ctxt::new();
    for field in model.columns() {
        let Some((feature, false)) = needs(field.kind, field.inner, on) else {
            continue;
        };
        cx.error_spanned_by(
            field.inner,
            with_help(
                format!(
                    "`{}` in diesel's queries needs diesel's `{feature}` feature, which is off",
                    type_to_string(field.inner)
                ),
                format!(
                    "turn on migrator's `{feature}` feature, which turns on diesel's: `migrator = {{ version = \"{}\", features = [\"{feature}\"] }}`",
                    env!("CARGO_PKG_VERSION")
                ),
            ),
        );
    }
    match cx.check() {
        Ok(()) => TokenStream::new(),
        Err(e) => e.into_compile_error(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(src: &str, on: DieselFeatures) -> Vec<(String, usize, usize)> {
        let input: syn::DeriveInput = syn::parse_str(src).expect("parses");
        let out = diesel_feature_errors(&input, on);
        if out.is_empty() {
            return Vec::new();
        }
        // Each error is `::core::compile_error! { "message" }`, spanned.
        let file: syn::File = syn::parse2(out).expect("errors are items");
        file.items
            .iter()
            .map(|item| {
                let syn::Item::Macro(m) = item else {
                    panic!("not a compile_error!: {item:?}")
                };
                let lit: syn::LitStr = syn::parse2(m.mac.tokens.clone()).expect("a message");
                let start = m
                    .mac
                    .tokens
                    .clone()
                    .into_iter()
                    .next()
                    .expect("a token")
                    .span()
                    .start();
                (lit.value(), start.line, start.column)
            })
            .collect()
    }

    const TASK: &str = "#[derive(Model, Queryable)]\n#[diesel(table_name = tasks)]\nstruct Task {\n    id: i64,\n    due: Option<chrono::NaiveDate>,\n    #[model(skip)]\n    cache: chrono::NaiveDate,\n    doc: serde_json::Value,\n    uid: uuid::Uuid,\n    #[model(sql_type = \"NUMERIC(12,2)\")]\n    price: bigdecimal::BigDecimal,\n}";

    #[test]
    fn a_field_whose_feature_is_off_is_named_with_the_feature() {
        let off = DieselFeatures {
            chrono: false,
            serde_json: false,
            uuid: true,
            numeric: false,
        };
        let found = errors(TASK, off);
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(
            found[0].0.starts_with(
                "`chrono::NaiveDate` in diesel's queries needs diesel's `chrono` feature"
            ),
            "{found:#?}"
        );
        assert!(found[0].0.contains("features = [\"chrono\"]"), "{found:#?}");
        // On the type inside `Option` (`chrono::NaiveDate`, columns 16 to
        // 33 of line 5); the skipped field is no column.
        assert_eq!(found[0].1, 5, "{found:#?}");
        assert!((16..33).contains(&found[0].2), "{found:#?}");
        assert!(found[1].0.contains("`serde_json` feature"), "{found:#?}");
        assert_eq!(found[1].1, 8, "{found:#?}");
        assert!(
            found[2].0.starts_with(
                "`bigdecimal::BigDecimal` in diesel's queries needs diesel's `numeric` feature"
            ),
            "{found:#?}"
        );
        assert_eq!(found[2].1, 11, "{found:#?}");
    }

    #[test]
    fn every_feature_on_or_no_diesel_attribute_is_no_error() {
        assert!(errors(TASK, DieselFeatures::ALL).is_empty());
        let none = DieselFeatures {
            chrono: false,
            serde_json: false,
            uuid: false,
            numeric: false,
        };
        let plain = TASK.replace("#[diesel(table_name = tasks)]\n", "");
        assert!(
            errors(&plain, none).is_empty(),
            "a model for migrations only"
        );
    }
}
