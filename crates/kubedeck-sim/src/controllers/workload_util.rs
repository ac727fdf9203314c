//! Helpers shared by the workload controllers: template hashing, owner
//! references and what they own, pods from templates and their deletion,
//! and the pod predicates kube-controller-manager uses (active, ready,
//! available).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::Ctx;
use crate::error::ApiResult;
use crate::events;
use crate::hash::fnv32a;
use crate::resources::{self, ResourceDef};
use crate::store::{ALPHANUMS, Change, DeleteOptions, Obj, ObjKey, meta_str, parse_time};
use kubedeck_kube::selector::LabelSelector;

/// The label the deployment controller adds to tell its ReplicaSets apart.
pub(crate) const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// The label tying a StatefulSet's or DaemonSet's pod (and its
/// ControllerRevision) to a template version.
pub(crate) const REVISION_HASH: &str = "controller-revision-hash";

/// kube's `rand.SafeEncodeString`: each character mapped into the safe
/// alphabet.
pub(crate) fn safe_encode(s: &str) -> String {
    s.bytes()
        .map(|b| ALPHANUMS[usize::from(b) % ALPHANUMS.len()] as char)
        .collect()
}

/// JSON with object keys sorted at every level, so equal objects hash the
/// same whatever order a client sent their fields in.
pub(crate) fn canonical_json(v: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    write(&m[k], out);
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(x, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

/// A stable short hash of `v` (plus a collision count, as kube appends it),
/// in the safe alphabet: `7d4b9c8f6d`.
pub(crate) fn stable_hash(v: &Value, collision_count: Option<i64>) -> String {
    let mut data = canonical_json(v).into_bytes();
    if let Some(c) = collision_count {
        data.extend_from_slice(c.to_string().as_bytes());
    }
    safe_encode(&fnv32a(&data).to_string())
}

/// The entry of `ownerReferences` with `controller: true`, if any.
pub(crate) fn controller_ref(obj: &Value) -> Option<&Value> {
    obj["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"].as_bool() == Some(true))
}

/// Whether `obj` is controlled by the object with this uid.
pub(crate) fn is_controlled_by(obj: &Value, uid: &str) -> bool {
    controller_ref(obj).is_some_and(|r| r["uid"].as_str() == Some(uid))
}

/// The name of `obj`'s controller when it is of `kind`.
pub(crate) fn controller_name<'a>(obj: &'a Value, kind: &str) -> Option<&'a str> {
    controller_ref(obj)
        .filter(|r| r["kind"].as_str() == Some(kind))
        .and_then(|r| r["name"].as_str())
}

/// The objects of kind `res` in `ns` controlled by the object with `uid`.
pub(crate) fn owned(ctx: &Ctx, res: &'static ResourceDef, ns: &str, uid: &str) -> Vec<Value> {
    ctx.store
        .list(res, Some(ns))
        .into_iter()
        .filter(|o| is_controlled_by(o, uid))
        .map(|o| (*o).clone())
        .collect()
}

/// Deletes a pod its controller `owner` no longer wants and, when that
/// worked, records the `SuccessfulDelete` event saying `message`, as kube's
/// controllers do.
pub(crate) fn delete_pod(
    ctx: &Ctx,
    owner: &Value,
    pod: &Value,
    component: &str,
    message: &str,
) -> ApiResult<Obj> {
    let deleted = ctx.store.delete(
        &resources::PODS,
        meta_str(pod, "namespace"),
        meta_str(pod, "name"),
        &DeleteOptions::default(),
    )?;
    ctx.recorder.record(
        owner,
        events::NORMAL,
        "SuccessfulDelete",
        message,
        component,
    );
    Ok(deleted)
}

/// The keys of the `kind` controllers of a changed object, before and
/// after the change: a change of owner wakes both.
pub(crate) fn owner_keys(change: &Change, kind: &str) -> Vec<ObjKey> {
    let ns = meta_str(&change.object, "namespace");
    let mut keys = Vec::new();
    for obj in std::iter::once(&change.object).chain(change.old.iter()) {
        if let Some(name) = controller_name(obj, kind) {
            let key = (ns.to_string(), name.to_string());
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys
}

/// An owner reference to `owner` as its controller.
pub(crate) fn controller_ref_to(owner: &Value) -> Value {
    json!({
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta_str(owner, "name"),
        "uid": meta_str(owner, "uid"),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// Makes `owner` the controller of `obj` (adoption).
pub(crate) fn set_controller_ref(obj: &mut Value, owner: &Value) {
    let refs = &mut obj["metadata"]["ownerReferences"];
    if !refs.is_array() {
        *refs = json!([]);
    }
    if let Some(a) = refs.as_array_mut() {
        a.retain(|r| r["uid"].as_str() != Some(meta_str(owner, "uid")));
        a.push(controller_ref_to(owner));
    }
}

/// Removes every owner reference to `uid` (release, orphaning).
pub(crate) fn remove_owner_ref(obj: &mut Value, uid: &str) {
    let Some(meta) = obj["metadata"].as_object_mut() else {
        return;
    };
    let now_empty = match meta
        .get_mut("ownerReferences")
        .and_then(Value::as_array_mut)
    {
        Some(a) => {
            a.retain(|r| r["uid"].as_str() != Some(uid));
            a.is_empty()
        }
        None => false,
    };
    if now_empty {
        meta.remove("ownerReferences");
    }
}

/// The workload's `spec.selector`, or None when absent or malformed (a
/// workload that selects nothing must not grab every pod).
pub(crate) fn workload_selector(obj: &Value) -> Option<LabelSelector> {
    let sel = &obj["spec"]["selector"];
    if !sel.is_object() {
        return None;
    }
    let parsed = LabelSelector::from_object(sel).ok()?;
    (!parsed.is_empty()).then_some(parsed)
}

pub(crate) fn labels(obj: &Value) -> &Value {
    &obj["metadata"]["labels"]
}

pub(crate) fn is_terminating(obj: &Value) -> bool {
    !obj["metadata"]["deletionTimestamp"].is_null()
}

pub(crate) fn phase(pod: &Value) -> &str {
    pod["status"]["phase"].as_str().unwrap_or("")
}

/// The template revision a pod was made from (its `controller-revision-hash`).
pub(crate) fn pod_revision(pod: &Value) -> &str {
    pod["metadata"]["labels"][REVISION_HASH]
        .as_str()
        .unwrap_or("")
}

/// Finished: Succeeded or Failed.
pub(crate) fn is_terminal(pod: &Value) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed")
}

/// Counts toward replicas: not finished and not being deleted.
pub(crate) fn pod_is_active(pod: &Value) -> bool {
    !is_terminal(pod) && !is_terminating(pod)
}

fn ready_condition(pod: &Value) -> Option<&Value> {
    pod["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"].as_str() == Some("Ready"))
}

pub(crate) fn pod_is_ready(pod: &Value) -> bool {
    ready_condition(pod).is_some_and(|c| c["status"].as_str() == Some("True"))
}

/// When the pod became Ready (None if it is not).
pub(crate) fn ready_since(pod: &Value) -> Option<DateTime<Utc>> {
    let c = ready_condition(pod)?;
    if c["status"].as_str() != Some("True") {
        return None;
    }
    Some(
        c["lastTransitionTime"]
            .as_str()
            .and_then(parse_time)
            .unwrap_or(DateTime::<Utc>::MIN_UTC),
    )
}

/// Ready for at least `min_ready` seconds at `now`.
pub(crate) fn pod_is_available(pod: &Value, min_ready: i64, now: DateTime<Utc>) -> bool {
    match ready_since(pod) {
        None => false,
        Some(_) if min_ready <= 0 => true,
        Some(t) => t + chrono::Duration::seconds(min_ready) <= now,
    }
}

/// How long until a Ready pod becomes available, when it is not yet.
pub(crate) fn until_available(pod: &Value, min_ready: i64, now: DateTime<Utc>) -> Option<Duration> {
    let t = ready_since(pod)?;
    if min_ready <= 0 {
        return None;
    }
    let at = t + chrono::Duration::seconds(min_ready);
    (at > now).then(|| (at - now).to_std().unwrap_or_default() + Duration::from_millis(50))
}

/// Whether a pod change can matter to the workload controlling it: its
/// existence, labels, owners, deletion, phase or readiness changed. Other
/// updates (scheduling, container states) are frequent and irrelevant.
pub(crate) fn pod_change_matters(old: Option<&Value>, new: &Value) -> bool {
    let Some(old) = old else {
        return true;
    };
    let meta = |p: &Value, f: &str| p["metadata"][f].clone();
    ["labels", "ownerReferences", "deletionTimestamp"]
        .iter()
        .any(|f| meta(old, f) != meta(new, f))
        || phase(old) != phase(new)
        || ready_since(old) != ready_since(new)
}

pub(crate) fn int_field(v: &Value, default: i64) -> i64 {
    v.as_i64().unwrap_or(default)
}

/// kube's `GetScaledValueFromIntOrPercent`: an int, or "N%" of `total`
/// rounded up or down.
pub(crate) fn scaled_int_or_percent(v: &Value, total: i64, round_up: bool, default: &str) -> i64 {
    let parse_pct = |s: &str| -> Option<i64> {
        let n: i64 = s.strip_suffix('%')?.trim().parse().ok()?;
        let scaled = n * total;
        Some(if round_up {
            (scaled + 99).div_euclid(100)
        } else {
            scaled.div_euclid(100)
        })
    };
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(0).max(0),
        Value::String(s) => s
            .parse::<i64>()
            .ok()
            .or_else(|| parse_pct(s))
            .unwrap_or(0)
            .max(0),
        _ => parse_pct(default).unwrap_or(0),
    }
}

/// A pod for `owner` from its `template`: the template's metadata and spec,
/// the owner as controller, the given name or a generateName.
pub(crate) fn pod_from_template(owner: &Value, template: &Value, name: Option<&str>) -> Value {
    let tmeta = &template["metadata"];
    let mut meta = Map::new();
    // kube's `GetPodFromTemplate` sets the owner's prefix even where the
    // controller then names the pod itself (a StatefulSet's `db-0`).
    meta.insert(
        "generateName".into(),
        json!(format!("{}-", meta_str(owner, "name"))),
    );
    if let Some(n) = name {
        meta.insert("name".into(), json!(n));
    }
    meta.insert("namespace".into(), json!(meta_str(owner, "namespace")));
    for f in ["labels", "annotations", "finalizers"] {
        if !tmeta[f].is_null() {
            meta.insert(f.into(), tmeta[f].clone());
        }
    }
    meta.insert("ownerReferences".into(), json!([controller_ref_to(owner)]));
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": template["spec"].clone(),
    })
}

/// The annotation value as an integer.
pub(crate) fn annotation_i64(obj: &Value, key: &str) -> Option<i64> {
    obj["metadata"]["annotations"][key]
        .as_str()
        .and_then(|s| s.parse().ok())
}

pub(crate) fn set_annotation(obj: &mut Value, key: &str, value: &str) {
    let ann = &mut obj["metadata"]["annotations"];
    if !ann.is_object() {
        *ann = json!({});
    }
    ann[key] = json!(value);
}

/// The pods a ReplicaSet or DaemonSet controls after adopting orphans that
/// match its selector and releasing its pods that no longer do, as kube's
/// `ClaimPods` does.
pub(crate) fn claim_pods(ctx: &Ctx, owner: &Value) -> Vec<Obj> {
    let uid = meta_str(owner, "uid");
    let ns = meta_str(owner, "namespace");
    let selector = workload_selector(owner);
    let mut out = Vec::new();
    for pod in ctx.store.list(&resources::PODS, Some(ns)) {
        let matches = selector.as_ref().is_some_and(|s| s.matches(labels(&pod)));
        if is_controlled_by(&pod, uid) {
            if matches || is_terminating(&pod) {
                out.push(pod);
                continue;
            }
            let _ = ctx
                .store
                .modify(&resources::PODS, ns, meta_str(&pod, "name"), |p| {
                    remove_owner_ref(p, uid)
                });
        } else if matches
            && controller_ref(&pod).is_none()
            && !is_terminating(&pod)
            && !is_terminating(owner)
            && let Ok(Some(adopted)) =
                ctx.store
                    .modify(&resources::PODS, ns, meta_str(&pod, "name"), |p| {
                        set_controller_ref(p, owner)
                    })
        {
            out.push(adopted);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_ignore_key_order_and_use_the_safe_alphabet() {
        let a = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"x": [1, 2]}});
        let b: Value =
            serde_json::from_str(r#"{"spec":{"x":[1,2]},"metadata":{"labels":{"b":"2","a":"1"}}}"#)
                .unwrap();
        let h = stable_hash(&a, None);
        assert_eq!(h, stable_hash(&b, None));
        assert_ne!(h, stable_hash(&a, Some(1)));
        assert!(h.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
        assert!(!h.is_empty() && h.len() <= 10);
    }

    #[test]
    fn safe_encoding_maps_digits_as_kube_does() {
        // Digits land on "456789bcdf", as in real pod-template-hash labels.
        assert_eq!(safe_encode("0123456789"), "456789bcdf");
    }

    #[test]
    fn only_relevant_pod_changes_matter() {
        let pod = json!({"metadata": {"labels": {"a": "1"}}, "status": {"phase": "Pending"}});
        let mut scheduled = pod.clone();
        scheduled["spec"]["nodeName"] = json!("n1");
        assert!(!pod_change_matters(Some(&pod), &scheduled));
        let mut running = scheduled.clone();
        running["status"]["phase"] = json!("Running");
        assert!(pod_change_matters(Some(&scheduled), &running));
        let mut relabeled = pod.clone();
        relabeled["metadata"]["labels"]["a"] = json!("2");
        assert!(pod_change_matters(Some(&pod), &relabeled));
        assert!(pod_change_matters(None, &pod));
    }

    #[test]
    fn percentages_round_as_kube_does() {
        assert_eq!(scaled_int_or_percent(&json!("25%"), 10, true, "25%"), 3);
        assert_eq!(scaled_int_or_percent(&json!("25%"), 10, false, "25%"), 2);
        assert_eq!(scaled_int_or_percent(&json!(2), 10, false, "25%"), 2);
        assert_eq!(scaled_int_or_percent(&Value::Null, 4, true, "25%"), 1);
        assert_eq!(scaled_int_or_percent(&json!("bogus"), 4, true, "25%"), 0);
    }

    #[test]
    fn availability_waits_for_min_ready_seconds() {
        let now = Utc::now();
        let since = crate::store::fmt_time(now - chrono::Duration::seconds(5));
        let pod = json!({"status": {"phase": "Running", "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": since}]}});
        assert!(pod_is_ready(&pod));
        assert!(pod_is_available(&pod, 0, now));
        assert!(pod_is_available(&pod, 5, now));
        assert!(!pod_is_available(&pod, 10, now));
        assert!(until_available(&pod, 10, now).is_some());
        let terminating =
            json!({"metadata": {"deletionTimestamp": since}, "status": {"phase": "Running"}});
        assert!(!pod_is_active(&terminating));
    }
}
