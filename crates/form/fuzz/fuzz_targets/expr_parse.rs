//! Any text: the parser returns an expression or an error, never panics, and a parsed
//! expression's references and functions can be listed.
#![no_main]

use fieldpost_form::expr::Expr;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    match Expr::parse(src) {
        Ok(e) => {
            let _ = e.references();
            let _ = e.field_names();
            let _ = e.functions();
            let _ = e.is_volatile();
        }
        Err(err) => {
            // The position is inside the expression (or just past its end).
            assert!(err.column >= 1 && err.column <= src.chars().count() + 1);
            let _ = err.to_string();
        }
    }
});
