//! Runbook files: any text is read, or rejected with diagnostics that name
//! a line inside the file.
#![no_main]

use kubedeck_core::runbooks::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Err(diags) = parse("fuzz", "fuzz.yaml", text) {
        let lines = text.lines().count().max(1);
        for d in diags {
            assert!(d.line <= lines + 1, "line {} of {lines}: {}", d.line, d.message);
        }
    }
});
