//! Pod logs and event messages are cluster data: after the sanitiser no
//! byte a terminal would interpret may remain.
#![no_main]

use kubedeck_core::logs::buffer::sanitize;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let clean = sanitize(text);
    assert!(
        clean
            .chars()
            .all(|c| c == '\t' || !(c.is_control() || c == '\u{7f}')),
        "a control character survived: {clean:?}"
    );
});
