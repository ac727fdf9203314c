//! `--field-selector` as the simulated API server reads it: any text is a
//! selector or a 400, never a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    kubedeck_sim::fuzzing::field_selector(text);
});
