//! config.toml: any text is a config, or a broken one that names a line in
//! the file and leaves every context read-only (it fails closed).
#![no_main]

use kubedeck_core::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let (config, error) = Config::from_text("config.toml", text);
    if let Some(e) = error {
        let lines = text.lines().count().max(1);
        assert!(e.line.is_none_or(|l| l <= lines + 1), "{e}");
        assert!(config.refusal().is_some());
        for context in ["prod", "kubedeck-sim", ""] {
            assert!(config.readonly_for(context), "{context} is read-write after {e}");
        }
    }
});
