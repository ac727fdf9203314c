//! Describe and YAML: a text pane for one object.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Cache, Kind, age, event_time, events_for, hpas, nodes, pods, services};

/// A scrollable page of text over the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextPane {
    pub title: String,
    pub lines: Vec<String>,
    /// The first visible line.
    pub scroll: usize,
    /// A pod's or event's YAML waiting for the full object from the API.
    pub loading: Option<crate::full_yaml::FullRef>,
    /// The object of a describe opened before every event was listed: it
    /// is described again, with its events, once they are.
    pub awaiting_events: Option<Box<Value>>,
    /// The last lines of a describe that describing again keeps: a
    /// ConfigMap's or Secret's data, or the line saying it is loading.
    pub tail: Vec<String>,
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

/// A container's previous run, as kubectl describe prints Last State: a
/// crash loop's cause (OOMKilled, exit 137) and when it ran.
fn last_state(out: &mut Vec<String>, t: &Value, now: DateTime<Utc>) {
    let row = |label: &str, value: String| format!("      {:<12}{value}", format!("{label}:"));
    out.push("    Last State: Terminated".into());
    if let Some(r) = t.pointer("/reason").and_then(Value::as_str) {
        out.push(row("Reason", r.to_string()));
    }
    out.push(row("Exit Code", n(t, "/exitCode").to_string()));
    if let Some(sig) = t
        .pointer("/signal")
        .and_then(Value::as_i64)
        .filter(|s| *s != 0)
    {
        out.push(row("Signal", sig.to_string()));
    }
    for (label, path) in [("Started", "/startedAt"), ("Finished", "/finishedAt")] {
        if let Ok(at) = DateTime::parse_from_rfc3339(s(t, path)) {
            let at = at.with_timezone(&Utc);
            out.push(row(
                label,
                format!("{} ({} ago)", at.to_rfc3339(), age(Some(at), now)),
            ));
        }
    }
}

/// A table as kubectl describe prints one: headings, dashes under them,
/// and each column but the last as wide as its longest cell, so a long
/// value (PodReadyToStartContainers, FailedComputeMetricsReplicas) never
/// runs into the next.
fn aligned(out: &mut Vec<String>, heads: &[&str], rows: &[Vec<String>]) {
    let widths: Vec<usize> = (0..heads.len())
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .chain([heads[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let last = cells.len().saturating_sub(1);
        let mut text = String::from("  ");
        for (i, cell) in cells.iter().enumerate() {
            if i == last {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<w$}   ", w = widths[i]));
            }
        }
        text.trim_end().to_string()
    };
    out.push(line(
        &heads.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
    ));
    out.push(line(
        &heads
            .iter()
            .map(|h| "-".repeat(h.len()))
            .collect::<Vec<_>>(),
    ));
    for r in rows {
        out.push(line(r));
    }
}

/// Conditions, with Reason and Message only when some condition has them.
fn conditions(out: &mut Vec<String>, conds: &[Value]) {
    let mut columns = vec![("Type", "/type"), ("Status", "/status")];
    for extra in [("Reason", "/reason"), ("Message", "/message")] {
        if conds.iter().any(|c| !s(c, extra.1).is_empty()) {
            columns.push(extra);
        }
    }
    let heads: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
    let rows: Vec<Vec<String>> = conds
        .iter()
        .map(|c| columns.iter().map(|(_, p)| s(c, p).to_string()).collect())
        .collect();
    out.push("Conditions:".into());
    aligned(out, &heads, &rows);
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
                    .map(|(k, v)| {
                        let code = (k == "terminated").then(|| n(v, "/exitCode"));
                        match (v.pointer("/reason").and_then(Value::as_str), code) {
                            (Some(r), Some(code)) if code != 0 => {
                                format!("{k} ({r}, exit {code})")
                            }
                            (Some(r), _) => format!("{k} ({r})"),
                            (None, _) => k.clone(),
                        }
                    })
                    .unwrap_or_default();
                out.push(format!(
                    "  {}: {state}, ready={}, restarts={}",
                    s(c, "/name"),
                    c.pointer("/ready")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    n(c, "/restartCount")
                ));
                if let Some(t) = c.pointer("/lastState/terminated") {
                    last_state(&mut out, t, now);
                }
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
                let pods = hpas::target_pods(cache, &h);
                for line in hpas::explain(&h, &events, pods.as_ref()) {
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
        conditions(&mut out, conds);
    }
    if kind != "Event" {
        let events = events_for(cache, kind, ns, name);
        if cache.loading(Kind::Event) {
            out.push("Events:         loading…".into());
        } else if events.is_empty() {
            out.push("Events:         <none>".into());
        } else {
            let rows: Vec<Vec<String>> = events
                .iter()
                .map(|e| {
                    let seen = age(event_time(e), now);
                    let count = e.count.unwrap_or(1);
                    let age = if count > 1 {
                        format!("{seen} (x{count})")
                    } else {
                        seen
                    };
                    vec![
                        e.type_.clone().unwrap_or_default(),
                        e.reason.clone().unwrap_or_default(),
                        age,
                        e.message.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            out.push("Events:".into());
            aligned(&mut out, &["Type", "Reason", "Age", "Message"], &rows);
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
            text.contains(&"Status:         Error 1 (CrashLoopBackOff)".to_string()),
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
                .any(|l| l == "  Warning   BackOff   20s (x12)   Back-off restarting failed container api in pod api-5f6b7c8d9f-abcde_shop"),
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

    #[test]
    fn describe_shows_the_last_state_of_an_oom_killed_container() {
        let (cache, mut writers) = crate::test_support::cluster_with_writers();
        let mut p = crate::test_support::pod(
            "shop",
            "oom-0",
            "web",
            "node-1",
            600,
            4,
            Some("CrashLoopBackOff"),
        );
        p["status"]["containerStatuses"][0]["lastState"] = serde_json::json!({"terminated": {
            "reason": "OOMKilled", "exitCode": 137,
            "startedAt": "2026-11-24T02:58:00Z", "finishedAt": "2026-11-24T02:59:00Z"}});
        writers.apply_json(&p).expect("valid pod");
        let obj = pods::PodsView
            .object(&cache, &("shop".into(), "oom-0".into()))
            .expect("pod");
        let text = describe(&obj, &cache, now());
        let at = text
            .iter()
            .position(|l| l == "    Last State: Terminated")
            .unwrap_or_else(|| panic!("{text:#?}"));
        assert_eq!(
            text[at + 1..at + 5],
            [
                "      Reason:     OOMKilled",
                "      Exit Code:  137",
                "      Started:    2026-11-24T02:58:00+00:00 (2m ago)",
                "      Finished:   2026-11-24T02:59:00+00:00 (60s ago)",
            ]
        );
        assert!(
            text.contains(&"Status:         OOMKilled 137 (CrashLoopBackOff)".to_string()),
            "{text:#?}"
        );
    }

    #[test]
    fn conditions_are_aligned_columns_whatever_the_type_length() {
        let obj = serde_json::json!({"kind": "Pod", "metadata": {"name": "a", "namespace": "shop"},
            "status": {"conditions": [
                {"type": "PodReadyToStartContainers", "status": "True"},
                {"type": "Ready", "status": "False", "reason": "ContainersNotReady",
                 "message": "containers with unready status: [web]"}]}});
        let text = describe(&obj, &cluster(), now());
        let at = text
            .iter()
            .position(|l| l == "Conditions:")
            .unwrap_or_else(|| panic!("{text:#?}"));
        assert_eq!(
            text[at + 1..at + 5],
            [
                "  Type                        Status   Reason               Message",
                "  ----                        ------   ------               -------",
                "  PodReadyToStartContainers   True",
                "  Ready                       False    ContainersNotReady   containers with unready status: [web]",
            ]
        );
    }
}
