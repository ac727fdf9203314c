//! `-l` selectors as kubectl reads them: any text parses or fails with a
//! message, and a parsed selector can be matched against labels.
#![no_main]

use kubedeck_kube::selector::LabelSelector;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(sel) = LabelSelector::parse(text) {
        let labels = serde_json::json!({"app": "web", "tier": "", "a.b/c": "x"});
        let _ = sel.matches(&labels);
    }
});
