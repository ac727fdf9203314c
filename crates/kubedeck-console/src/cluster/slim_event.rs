//! The console's projection of an Event: only the fields its views read.
//! Events are the most numerous objects the console caches (about six per
//! pod); k8s-openapi's `Event` carries its source, series, related object
//! and reporting fields as well. serde skips every field not named here, so
//! the watch decodes straight into the projection. YAML fetches the full
//! object on demand (see `console::full_yaml`).

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SlimEvent {
    #[serde(default, deserialize_with = "super::slim_meta::without_managed_fields")]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub involved_object: ObjectReference,
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub count: Option<i32>,
    pub first_timestamp: Option<Time>,
    pub last_timestamp: Option<Time>,
    pub event_time: Option<MicroTime>,
}

/// Serialized as the API would serve it (apiVersion and kind first), so
/// describe and YAML, which read JSON, see the projected fields where a
/// full event has them.
impl Serialize for SlimEvent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Event", 11)?;
        st.serialize_field("apiVersion", "v1")?;
        st.serialize_field("kind", "Event")?;
        st.serialize_field("metadata", &self.metadata)?;
        st.serialize_field("involvedObject", &self.involved_object)?;
        macro_rules! optional {
            ($($name:literal => $field:ident),*) => {$(
                if let Some(v) = &self.$field {
                    st.serialize_field($name, v)?;
                }
            )*};
        }
        optional!(
            "type" => type_,
            "reason" => reason,
            "message" => message,
            "count" => count,
            "firstTimestamp" => first_timestamp,
            "lastTimestamp" => last_timestamp,
            "eventTime" => event_time
        );
        st.end()
    }
}

core_v1_resource!(SlimEvent, "Event", "events");

/// Events are the most numerous objects; their UIDs and the involved
/// object's UID, version and API version are read by no view (YAML fetches
/// the full event), and the event's UID would be copied into the store's
/// key as well. The event's own resourceVersion stays: it orders events
/// recorded within one second.
impl super::watch::Trim for SlimEvent {
    fn trim(&mut self) {
        self.metadata.uid = None;
        let o = &mut self.involved_object;
        o.uid = None;
        o.resource_version = None;
        o.api_version = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{cluster, now};
    use crate::views::{describe, event_time};
    use k8s_openapi::api::core::v1::Event;

    /// An event with every field the views read, and many they do not.
    fn rich() -> serde_json::Value {
        serde_json::json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "api-5f6b7c8d9f-abcde.17f0", "namespace": "shop",
                "labels": {"app": "api"}, "resourceVersion": "42",
                "creationTimestamp": "2026-11-24T02:00:00Z",
                "managedFields": [{"manager": "kubelet", "operation": "Update"}]},
            "involvedObject": {"kind": "Pod", "name": "api-5f6b7c8d9f-abcde",
                "namespace": "shop", "uid": "u1", "apiVersion": "v1",
                "fieldPath": "spec.containers{api}"},
            "type": "Warning", "reason": "BackOff",
            "message": "Back-off restarting failed container api",
            "count": 7,
            "firstTimestamp": "2026-11-24T02:00:05Z",
            "lastTimestamp": "2026-11-24T02:10:00Z",
            "source": {"component": "kubelet", "host": "node-a"},
            "reportingComponent": "kubelet", "reportingInstance": "node-a",
            "action": "Restarting",
            "related": {"kind": "Node", "name": "node-a"},
            "series": {"count": 3, "lastObservedTime": "2026-11-24T02:10:00.000000Z"}
        })
    }

    #[test]
    fn describe_of_the_projection_is_describe_of_the_full_event() {
        let cache = cluster();
        let full: Event = serde_json::from_value(rich()).expect("an event");
        let mut slim: SlimEvent = serde_json::from_value(rich()).expect("a slim event");
        super::super::watch::Trim::trim(&mut slim);
        let full_json = crate::views::as_json(&full).expect("json");
        let from_full = describe::describe(&full_json, &cache, now());
        let from_slim =
            describe::describe(&crate::views::as_json(&slim).expect("json"), &cache, now());
        assert_eq!(from_slim, from_full);
        assert!(
            from_full
                .iter()
                .any(|l| l.contains("Pod/api-5f6b7c8d9f-abcde"))
        );
    }

    #[test]
    fn the_projection_keeps_what_the_views_read_and_drops_the_rest() {
        let mut slim: SlimEvent = serde_json::from_value(rich()).expect("a slim event");
        super::super::watch::Trim::trim(&mut slim);
        assert_eq!(
            crate::views::events::object_name(&slim),
            "pod/api-5f6b7c8d9f-abcde"
        );
        assert!(crate::views::events::is_warning(&slim));
        assert_eq!(
            event_time(&slim).map(|t| t.to_rfc3339()),
            Some("2026-11-24T02:10:00+00:00".into())
        );
        let json = crate::views::as_json(&slim).expect("json");
        assert_eq!(json["kind"], "Event");
        assert_eq!(json["count"], 7);
        assert!(json["source"].is_null());
        assert!(json["series"].is_null());
        assert!(slim.metadata.managed_fields.is_none());
        assert!(json["metadata"]["uid"].is_null());
        assert!(json["involvedObject"]["uid"].is_null());
    }
}
