//! Any bytes as an XLSForm workbook: an import result or an import error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = fieldpost_form::import_xlsform(data);
});
