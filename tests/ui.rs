//! Compile-fail UI tests of the macros: `tests/ui/<category>/<kebab-name>.rs`
//! with the expected compiler output in the `.stderr` beside each.
//!
//! The `.stderr` files are pinned to the toolchain of the machine they were
//! written on (rustc 1.95): another compiler version may word or place its own
//! diagnostics differently. Regenerate them with `TRYBUILD=overwrite cargo
//! test --test ui` and review every change.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*/*.rs");
}
