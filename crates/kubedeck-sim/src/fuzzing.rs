//! Entry points for the fuzz targets in `fuzz/`: the API server's field
//! selector reader, on the kinds whose selectors kubectl users type most.

use serde_json::json;

use crate::field_selector::FieldSelector;
use crate::resources;

/// Parses `text` as a `fieldSelector=` for pods and for events, and
/// matches what parses against an object of that kind.
pub fn field_selector(text: &str) {
    let pod = json!({"metadata": {"name": "web-1", "namespace": "demo"},
        "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}});
    let event = json!({"metadata": {"name": "e", "namespace": "demo"}, "reason": "BackOff",
        "type": "Warning", "involvedObject": {"kind": "Pod", "name": "web-1"}});
    for (res, obj) in [(&resources::PODS, pod), (&resources::EVENTS, event)] {
        if let Ok(sel) = FieldSelector::parse(res, text) {
            let _ = sel.matches(&obj);
        }
    }
}
