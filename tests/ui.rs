//! Compile-fail UI tests of the macros: `tests/ui/<category>/<kebab-name>.rs`
//! with the expected compiler output in the `.stderr` beside each.
//!
//! The `.stderr` files are pinned to the toolchain they were written on
//! (stable rustc 1.95): another compiler version words or places its own
//! diagnostics differently, so the comparison runs on that toolchain only
//! (`rustversion`). On any other one, the declared MSRV included, the suite
//! still checks that every case has its expected output, and says loudly
//! that the diagnostics were not compared. Regenerate them with
//! `TRYBUILD=overwrite cargo test --test ui` on 1.95 and review every change.

#[rustversion::stable(1.95)]
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*/*.rs");
}

#[rustversion::not(stable(1.95))]
#[test]
fn ui_cases_have_their_expected_output() {
    eprintln!(
        "\n!!!!!!!! UI diagnostics NOT compared: they are recorded for stable rustc 1.95 (tests/ui.rs) !!!!!!!!\n"
    );
    every_case_has_its_stderr();
}

/// Every `tests/ui/*/*.rs` has a `.stderr` beside it, and every `.stderr` a
/// case (a renamed case must take its expected output along).
#[allow(dead_code)]
fn every_case_has_its_stderr() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    let mut cases = 0;
    for dir in std::fs::read_dir(&root).expect("tests/ui") {
        let dir = dir.expect("entry").path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).expect("category") {
            let f = f.expect("entry").path();
            match f.extension().and_then(|e| e.to_str()) {
                Some("rs") => {
                    cases += 1;
                    assert!(
                        f.with_extension("stderr").is_file(),
                        "{} has no .stderr",
                        f.display()
                    );
                }
                Some("stderr") => {
                    assert!(
                        f.with_extension("rs").is_file(),
                        "{} has no case",
                        f.display()
                    )
                }
                _ => {}
            }
        }
    }
    assert!(cases > 0, "no UI cases under {}", root.display());
}

#[test]
fn ui_layout() {
    every_case_has_its_stderr();
}
