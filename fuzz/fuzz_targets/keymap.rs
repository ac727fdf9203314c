//! User keymap files: any text is read, or rejected with errors that name
//! a line inside the file.
#![no_main]

use kubedeck_console::fuzzing::keymap_text;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Err(errors) = keymap_text(text) {
        let lines = text.lines().count().max(1);
        for e in errors.iter().filter(|e| e.file == "fuzz.toml") {
            assert!(e.line.is_none_or(|l| l <= lines + 1), "{e}");
        }
    }
});
