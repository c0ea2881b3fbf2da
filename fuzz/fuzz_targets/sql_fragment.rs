//! `sql_fragment`: the validators of `sql_type`, SQL defaults, checks and
//! backfill fragments on any text: a verdict, never a panic; a refusal points
//! at a character of the fragment; an accepted expression stays accepted in
//! parentheses (balance is all that parentheses add).
#![no_main]

use libfuzzer_sys::fuzz_target;
use migrator_core::sql_fragment::{
    check_assignments, check_expression, check_predicate, check_type, FragmentError,
};

fn in_bounds(text: &str, r: &Result<(), FragmentError>) {
    if let Err(e) = r {
        assert!(
            e.offset < text.len().max(1) && (text.is_empty() || text.is_char_boundary(e.offset)),
            "offset {} outside {text:?}",
            e.offset
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    in_bounds(text, &check_type(text));
    in_bounds(text, &check_assignments(text));
    in_bounds(text, &check_predicate(text));
    let e = check_expression(text);
    in_bounds(text, &e);
    if e.is_ok() {
        assert_eq!(check_expression(&format!("({text})")), Ok(()), "{text:?}");
    }
});
