//! Describe and YAML: a text pane for one object.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Cache, age, event_time, events_for, hpas, nodes, pods, services};

/// A scrollable page of text over the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextPane {
    pub title: String,
    pub lines: Vec<String>,
    /// The first visible line.
    pub scroll: usize,
    /// A pod's or event's YAML waiting for the full object from the API.
    pub loading: Option<crate::full_yaml::FullRef>,
}

/// The object as YAML, as cached (without `managedFields`).
pub(crate) fn yaml(obj: &Value) -> Vec<String> {
    match serde_norway::to_string(obj) {
        Ok(text) => text.lines().map(str::to_string).collect(),
        Err(e) => vec![format!("cannot render YAML: {e}")],
    }
}

fn s<'a>(v: &'a Value, path: &str) -> &'a str {
    v.pointer(path).and_then(Value::as_str).unwrap_or("")
}

fn n(v: &Value, path: &str) -> i64 {
    v.pointer(path).and_then(Value::as_i64).unwrap_or(0)
}

/// `k=v,k=v`; like kubectl describe, without the last-applied copy of the
/// whole object.
fn map_text(v: &Value, path: &str) -> String {
    let parts: Vec<String> = v
        .pointer(path)
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(k, _)| *k != "kubectl.kubernetes.io/last-applied-configuration")
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect();
    if parts.is_empty() {
        "<none>".into()
    } else {
        parts.join(",")
    }
}

fn field(out: &mut Vec<String>, label: &str, value: impl std::fmt::Display) {
    out.push(format!("{:<16}{value}", format!("{label}:")));
}

fn typed<K: serde::de::DeserializeOwned>(obj: &Value) -> Option<K> {
    serde_json::from_value(obj.clone()).ok()
}

fn containers(out: &mut Vec<String>, spec: &Value) {
    out.push("Containers:".into());
    for c in spec
        .pointer("/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.push(format!("  {}:", s(c, "/name")));
        out.push(format!("    Image:        {}", s(c, "/image")));
        let ports: Vec<String> = c
            .pointer("/ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| {
                format!(
                    "{}/{}",
                    n(p, "/containerPort"),
                    p.pointer("/protocol")
                        .and_then(Value::as_str)
                        .unwrap_or("TCP")
                )
            })
            .collect();
        if !ports.is_empty() {
            out.push(format!("    Ports:        {}", ports.join(", ")));
        }
        for (label, path) in [
            ("Requests", "/resources/requests"),
            ("Limits", "/resources/limits"),
        ] {
            if c.pointer(path).is_some() {
                out.push(format!(
                    "    {label}:{}{}",
                    " ".repeat(13 - label.len()),
                    map_text(c, path)
                ));
            }
        }
    }
}

/// A kubectl-describe-like summary: identity, the fields an engineer looks
/// at for this kind, conditions, and the events about the object.
pub(crate) fn describe(obj: &Value, cache: &Cache, now: DateTime<Utc>) -> Vec<String> {
    let mut out = Vec::new();
    let kind = s(obj, "/kind");
    let ns = s(obj, "/metadata/namespace");
    let name = s(obj, "/metadata/name");
    field(&mut out, "Name", name);
    if !ns.is_empty() {
        field(&mut out, "Namespace", ns);
    }
    field(&mut out, "Kind", kind);
    field(&mut out, "Labels", map_text(obj, "/metadata/labels"));
    field(
        &mut out,
        "Annotations",
        map_text(obj, "/metadata/annotations"),
    );
    let created = DateTime::parse_from_rfc3339(s(obj, "/metadata/creationTimestamp"))
        .ok()
        .map(|t| t.with_timezone(&Utc));
    if let Some(t) = created {
        field(
            &mut out,
            "Created",
            format!("{} ({} ago)", t.to_rfc3339(), age(Some(t), now)),
        );
    }
    match kind {
        "Pod" => {
            if let Some(p) = typed(obj) {
                field(&mut out, "Status", pods::status(&p).0);
                let (r, t) = pods::ready(&p);
                field(&mut out, "Ready", format!("{r}/{t}"));
            }
            field(&mut out, "Node", s(obj, "/spec/nodeName"));
            field(&mut out, "IP", s(obj, "/status/podIP"));
            containers(&mut out, &obj["spec"]);
            out.push("Container statuses:".into());
            for c in obj
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let state = c
                    .pointer("/state")
                    .and_then(Value::as_object)
                    .and_then(|m| m.iter().next())
                    .map(
                        |(k, v)| match v.pointer("/reason").and_then(Value::as_str) {
                            Some(r) => format!("{k} ({r})"),
                            None => k.clone(),
                        },
                    )
                    .unwrap_or_default();
                out.push(format!(
                    "  {}: {state}, ready={}, restarts={}",
                    s(c, "/name"),
                    c.pointer("/ready")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    n(c, "/restartCount")
                ));
            }
        }
        "Deployment" | "StatefulSet" | "DaemonSet" => {
            if kind == "DaemonSet" {
                field(
                    &mut out,
                    "Pods",
                    format!(
                        "{} desired | {} updated | {} ready | {} available",
                        n(obj, "/status/desiredNumberScheduled"),
                        n(obj, "/status/updatedNumberScheduled"),
                        n(obj, "/status/numberReady"),
                        n(obj, "/status/numberAvailable")
                    ),
                );
            } else {
                field(
                    &mut out,
                    "Replicas",
                    format!(
                        "{} desired | {} updated | {} total | {} ready | {} available",
                        obj.pointer("/spec/replicas")
                            .and_then(Value::as_i64)
                            .unwrap_or(1),
                        n(obj, "/status/updatedReplicas"),
                        n(obj, "/status/replicas"),
                        n(obj, "/status/readyReplicas"),
                        n(obj, "/status/availableReplicas")
                    ),
                );
            }
            field(
                &mut out,
                "Selector",
                map_text(obj, "/spec/selector/matchLabels"),
            );
            let strategy = obj
                .pointer("/spec/strategy/type")
                .or_else(|| obj.pointer("/spec/updateStrategy/type"))
                .and_then(Value::as_str)
                .unwrap_or("");
            field(&mut out, "Strategy", strategy);
            if kind == "StatefulSet" {
                field(
                    &mut out,
                    "Revisions",
                    format!(
                        "current {} update {}",
                        s(obj, "/status/currentRevision"),
                        s(obj, "/status/updateRevision")
                    ),
                );
            }
            containers(&mut out, &obj["spec"]["template"]["spec"]);
        }
        "Service" => {
            field(&mut out, "Type", s(obj, "/spec/type"));
            field(&mut out, "IP", s(obj, "/spec/clusterIP"));
            field(&mut out, "Selector", map_text(obj, "/spec/selector"));
            if let Some(svc) = typed(obj) {
                field(&mut out, "Ports", services::ports(&svc));
                let (r, t) = services::endpoints(cache, ns, name);
                field(&mut out, "Endpoints", format!("{r} ready of {t}"));
            }
        }
        "HorizontalPodAutoscaler" => {
            field(
                &mut out,
                "Reference",
                format!(
                    "{}/{}",
                    s(obj, "/spec/scaleTargetRef/kind"),
                    s(obj, "/spec/scaleTargetRef/name")
                ),
            );
            field(
                &mut out,
                "Min replicas",
                obj.pointer("/spec/minReplicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(1),
            );
            field(&mut out, "Max replicas", n(obj, "/spec/maxReplicas"));
            field(
                &mut out,
                "Replicas",
                format!(
                    "{} current / {} desired",
                    n(obj, "/status/currentReplicas"),
                    n(obj, "/status/desiredReplicas")
                ),
            );
            if let Some(h) = typed(obj) {
                for m in hpas::metrics(&h) {
                    field(&mut out, "Metric", m.summary());
                }
                let events: Vec<_> = events_for(cache, kind, ns, name)
                    .iter()
                    .map(|e| (**e).clone())
                    .collect();
                out.push("Why:".into());
                for line in hpas::explain(&h, &events) {
                    out.push(format!("  {line}"));
                }
            }
        }
        "Node" => {
            if let Some(node) = typed(obj) {
                field(&mut out, "Status", nodes::status(&node).0);
                field(&mut out, "Roles", nodes::roles(&node));
            }
            field(
                &mut out,
                "Allocatable",
                map_text(obj, "/status/allocatable"),
            );
            field(
                &mut out,
                "Kubelet",
                s(obj, "/status/nodeInfo/kubeletVersion"),
            );
        }
        "Job" => {
            field(
                &mut out,
                "Completions",
                format!(
                    "{} succeeded, {} failed, {} active",
                    n(obj, "/status/succeeded"),
                    n(obj, "/status/failed"),
                    n(obj, "/status/active")
                ),
            );
            field(&mut out, "Started", s(obj, "/status/startTime"));
            field(&mut out, "Completed", s(obj, "/status/completionTime"));
        }
        "CronJob" => {
            field(&mut out, "Schedule", s(obj, "/spec/schedule"));
            field(
                &mut out,
                "Suspend",
                obj.pointer("/spec/suspend")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            );
            field(
                &mut out,
                "Last schedule",
                s(obj, "/status/lastScheduleTime"),
            );
        }
        "Namespace" => field(&mut out, "Status", s(obj, "/status/phase")),
        "Event" => {
            field(&mut out, "Type", s(obj, "/type"));
            field(&mut out, "Reason", s(obj, "/reason"));
            field(
                &mut out,
                "Object",
                format!(
                    "{}/{}",
                    s(obj, "/involvedObject/kind"),
                    s(obj, "/involvedObject/name")
                ),
            );
            field(&mut out, "Message", s(obj, "/message"));
        }
        _ => {}
    }
    if let Some(conds) = obj.pointer("/status/conditions").and_then(Value::as_array)
        && !conds.is_empty()
    {
        out.push("Conditions:".into());
        out.push(format!(
            "  {:<16}{:<8}{:<28}MESSAGE",
            "TYPE", "STATUS", "REASON"
        ));
        for c in conds {
            out.push(format!(
                "  {:<16}{:<8}{:<28}{}",
                s(c, "/type"),
                s(c, "/status"),
                s(c, "/reason"),
                s(c, "/message")
            ));
        }
    }
    if kind != "Event" {
        let events = events_for(cache, kind, ns, name);
        if events.is_empty() {
            out.push("Events:         <none>".into());
        } else {
            out.push("Events:".into());
            out.push(format!(
                "  {:<9}{:<20}{:<10}MESSAGE",
                "TYPE", "REASON", "AGE"
            ));
            for e in events {
                let seen = age(event_time(&e), now);
                let count = e.count.unwrap_or(1);
                let age = if count > 1 {
                    format!("{seen} (x{count})")
                } else {
                    seen
                };
                out.push(format!(
                    "  {:<9}{:<20}{:<10}{}",
                    e.type_.as_deref().unwrap_or(""),
                    e.reason.as_deref().unwrap_or(""),
                    age,
                    e.message.as_deref().unwrap_or("")
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{cluster, now};
    use crate::views::TableView;

    #[test]
    fn describe_a_crashing_pod_shows_its_state_and_events() {
        let cache = cluster();
        let key = ("shop".to_string(), "api-5f6b7c8d9f-abcde".to_string());
        let obj = pods::PodsView.object(&cache, &key).expect("pod");
        let text = describe(&obj, &cache, now());
        assert!(
            text.contains(&"Status:         CrashLoopBackOff".to_string()),
            "{text:#?}"
        );
        assert!(
            text.contains(
                &"  api: waiting (CrashLoopBackOff), ready=false, restarts=7".to_string()
            ),
            "{text:#?}"
        );
        assert!(
            text.iter()
                .any(|l| l.starts_with("  Warning  BackOff") && l.contains("20s (x12)")),
            "{text:#?}"
        );
    }

    #[test]
    fn yaml_is_the_cached_object_without_managed_fields() {
        let mut obj = serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "a", "managedFields": [{"manager": "kubectl"}]}});
        let cleaned = crate::views::as_json(&obj).expect("json");
        obj["metadata"]
            .as_object_mut()
            .expect("object")
            .remove("managedFields");
        assert_eq!(cleaned, obj);
        let lines = yaml(&cleaned);
        assert_eq!(
            lines,
            ["apiVersion: v1", "kind: Pod", "metadata:", "  name: a"]
        );
    }

    #[test]
    fn describe_an_hpa_explains_it() {
        let cache = cluster();
        let obj = hpas::HpasView
            .object(&cache, &("shop".into(), "web".into()))
            .expect("hpa");
        let text = describe(&obj, &cache, now());
        assert!(
            text.iter()
                .any(|l| l.contains("at max (2): ScalingLimited TooManyReplicas")),
            "{text:#?}"
        );
    }
}
