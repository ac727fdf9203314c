//! Records core/v1 Events the way the real components do, aggregating
//! repeats of the same reason and message on the same object into a count.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use chrono::{SecondsFormat, Utc};

use super::resources;
use super::store::{Store, meta_str, now_rfc3339};

/// The host the simulated control plane's components report from, as the
/// real ones add their host name to `reportingInstance`.
pub(crate) const CONTROL_PLANE_HOST: &str = "kubedeck-sim";

pub(crate) const NORMAL: &str = "Normal";
pub(crate) const WARNING: &str = "Warning";

/// (involved uid, reason, message): what makes two events the same one.
type EventIdentity = (String, String, String);

pub(crate) struct Recorder {
    store: Arc<Store>,
    /// Identity → (namespace, name) of the event recorded for it.
    seen: Mutex<HashMap<EventIdentity, (String, String)>>,
}

impl Recorder {
    pub(crate) fn new(store: Arc<Store>) -> Recorder {
        Recorder {
            store,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Records an event about `involved` (any stored object) from `component`
    /// (e.g. "deployment-controller", "kubelet", "default-scheduler").
    pub(crate) fn record(
        &self,
        involved: &Value,
        type_: &str,
        reason: &str,
        message: &str,
        component: &str,
    ) {
        self.record_at(involved, None, type_, reason, message, component, None);
    }

    /// As `record`, with a container's fieldPath and the reporting host.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn record_at(
        &self,
        involved: &Value,
        field_path: Option<&str>,
        type_: &str,
        reason: &str,
        message: &str,
        component: &str,
        host: Option<&str>,
    ) {
        let (key, ns) = identity(involved, reason, message);
        let now = now_rfc3339();
        if self.bump(&key, |ev| {
            let count = ev["count"].as_i64().unwrap_or(1);
            ev["count"] = json!(count + 1);
            ev["lastTimestamp"] = json!(now);
        }) {
            return;
        }
        let name = event_name(meta_str(involved, "name"));
        let mut involved_ref = involved_ref(involved, &ns);
        if let Some(fp) = field_path {
            involved_ref["fieldPath"] = json!(fp);
        }
        let mut source = json!({"component": component});
        if let Some(h) = host {
            source["host"] = json!(h);
        }
        let ev = json!({
            "metadata": {"name": name, "namespace": ns},
            "involvedObject": involved_ref,
            "reason": reason,
            "message": message,
            "source": source,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": type_,
            "eventTime": null,
            "reportingComponent": component,
            "reportingInstance": host.unwrap_or(""),
        });
        self.create(key, ns, name, ev);
    }

    /// Records an event as the components on the events.k8s.io/v1 API do
    /// (the scheduler): an `action`, an `eventTime` in microseconds, the
    /// reporter in `reportingComponent`/`reportingInstance` with an empty
    /// `source`, no first/last timestamps or count, and repeats counted in
    /// a `series`.
    pub(crate) fn record_new(
        &self,
        involved: &Value,
        type_: &str,
        reason: &str,
        action: &str,
        message: &str,
        component: &str,
    ) {
        let (key, ns) = identity(involved, reason, message);
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
        if self.bump(&key, |ev| {
            let count = ev["series"]["count"].as_i64().unwrap_or(1);
            ev["series"] = json!({"count": count + 1, "lastObservedTime": now});
        }) {
            return;
        }
        let name = event_name(meta_str(involved, "name"));
        let involved_ref = involved_ref(involved, &ns);
        let ev = json!({
            "metadata": {"name": name, "namespace": ns},
            "involvedObject": involved_ref,
            "reason": reason,
            "message": message,
            "source": {},
            "firstTimestamp": null,
            "lastTimestamp": null,
            "type": type_,
            "eventTime": now,
            "action": action,
            "reportingComponent": component,
            "reportingInstance": format!("{component}-{CONTROL_PLANE_HOST}"),
        });
        self.create(key, ns, name, ev);
    }

    /// Counts a repeat into the event already recorded for `key`; false
    /// when there is none (or it has gone), so a new one is due.
    fn bump(&self, key: &EventIdentity, f: impl FnOnce(&mut Value)) -> bool {
        let existing = self
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned();
        existing.is_some_and(|(ns, name)| {
            matches!(
                self.store.modify(&resources::EVENTS, &ns, &name, f),
                Ok(Some(_))
            )
        })
    }

    fn create(&self, key: EventIdentity, ns: String, name: String, ev: Value) {
        if self.store.create(&resources::EVENTS, ev).is_ok() {
            self.seen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key, (ns, name));
        }
    }
}

/// What makes two events the same one, and the namespace an event about
/// `involved` goes in (`default` for cluster-scoped objects, as kube's).
fn identity(involved: &Value, reason: &str, message: &str) -> (EventIdentity, String) {
    let ns = match meta_str(involved, "namespace") {
        "" => "default".to_string(),
        ns => ns.to_string(),
    };
    let uid = meta_str(involved, "uid").to_string();
    ((uid, reason.to_string(), message.to_string()), ns)
}

fn involved_ref(involved: &Value, ns: &str) -> Value {
    let mut r = json!({
        "kind": involved["kind"],
        "name": meta_str(involved, "name"),
        "uid": meta_str(involved, "uid"),
        "apiVersion": involved["apiVersion"],
        "resourceVersion": involved["metadata"]["resourceVersion"],
    });
    if !meta_str(involved, "namespace").is_empty() {
        r["namespace"] = json!(ns);
    }
    r
}

/// An event's name as client-go makes it: the object's name, a dot and the
/// time in nanoseconds since the epoch, in hex.
fn event_name(involved_name: &str) -> String {
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    format!("{involved_name}.{nanos:x}")
}
