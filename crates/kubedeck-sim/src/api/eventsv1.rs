//! `events.k8s.io/v1` is a second view of the stored core/v1 Events, as on
//! a real cluster where both versions share one storage. Reads convert core
//! to events.k8s.io; writes convert back, so every verb works on both.

use serde_json::{Map, Value, json};

/// (core field, events.k8s.io field) pairs copied as they are.
const RENAMED: &[(&str, &str)] = &[
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
    ("reportingComponent", "reportingController"),
    ("reportingInstance", "reportingInstance"),
    ("metadata", "metadata"),
    ("eventTime", "eventTime"),
    ("series", "series"),
    ("action", "action"),
    ("reason", "reason"),
    ("related", "related"),
    ("type", "type"),
];

fn copy(
    from: &Value,
    pairs: impl Iterator<Item = (&'static str, &'static str)>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (src, dst) in pairs {
        match &from[src] {
            Value::Null => {}
            Value::String(s) if s.is_empty() => {}
            v => {
                out.insert(dst.to_string(), v.clone());
            }
        }
    }
    out
}

/// A stored core Event as events.k8s.io/v1 shows it.
pub(super) fn from_core(core: &Value) -> Value {
    let mut out = copy(core, RENAMED.iter().copied());
    // Old-style events name their reporter only in `source`.
    if !out.contains_key("reportingController")
        && let Some(c) = core["source"]["component"].as_str()
    {
        out.insert("reportingController".into(), json!(c));
    }
    if !out.contains_key("reportingInstance")
        && let Some(h) = core["source"]["host"].as_str()
    {
        out.insert("reportingInstance".into(), json!(h));
    }
    out.insert("apiVersion".into(), json!("events.k8s.io/v1"));
    out.insert("kind".into(), json!("Event"));
    Value::Object(out)
}

/// An events.k8s.io/v1 Event as a core Event, for storing.
pub(super) fn to_core(ev: &Value) -> Value {
    let mut out = copy(ev, RENAMED.iter().map(|(c, e)| (*e, *c)));
    if !out.contains_key("source") {
        let mut source = Map::new();
        if let Some(c) = ev["reportingController"].as_str() {
            source.insert("component".into(), json!(c));
        }
        if let Some(h) = ev["reportingInstance"].as_str().filter(|h| !h.is_empty()) {
            source.insert("host".into(), json!(h));
        }
        out.insert("source".into(), Value::Object(source));
    }
    out.insert("apiVersion".into(), json!("v1"));
    out.insert("kind".into(), json!("Event"));
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core_event() -> Value {
        json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "web.1", "namespace": "demo", "resourceVersion": "9"},
            "involvedObject": {"kind": "Pod", "name": "web", "namespace": "demo"},
            "reason": "Pulled", "message": "Successfully pulled image", "type": "Normal",
            "source": {"component": "kubelet", "host": "node-a"},
            "firstTimestamp": "2024-01-01T00:00:00Z", "lastTimestamp": "2024-01-01T00:01:00Z",
            "count": 3, "eventTime": null, "reportingComponent": "", "reportingInstance": "",
        })
    }

    #[test]
    fn core_events_show_as_events_k8s_io() {
        let v = from_core(&core_event());
        assert_eq!(v["apiVersion"], "events.k8s.io/v1");
        assert_eq!(v["regarding"]["name"], "web");
        assert_eq!(v["note"], "Successfully pulled image");
        assert_eq!(v["deprecatedCount"], 3);
        assert_eq!(v["reportingController"], "kubelet");
        assert_eq!(v["reportingInstance"], "node-a");
        assert_eq!(v["metadata"]["resourceVersion"], "9");
        assert!(v.get("message").is_none() && v.get("eventTime").is_none());
    }

    #[test]
    fn conversion_round_trips_the_meaningful_fields() {
        let back = to_core(&from_core(&core_event()));
        for f in [
            "involvedObject",
            "message",
            "reason",
            "type",
            "source",
            "count",
            "lastTimestamp",
        ] {
            assert_eq!(back[f], core_event()[f], "{f}");
        }
        let created = to_core(&json!({"reportingController": "me", "note": "hi",
                                      "regarding": {"kind": "Node", "name": "n"}}));
        assert_eq!(created["source"]["component"], "me");
        assert_eq!(created["message"], "hi");
        assert_eq!(created["kind"], "Event");
    }
}
