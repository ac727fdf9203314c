//! PATCH bodies: JSON patch, JSON merge patch, strategic merge patch and
//! (approximately) server-side apply.
//!
//! Strategic merge follows k8s.io/apimachinery's `strategicpatch`: lists are
//! merged element by element by their `patchMergeKey`, primitive lists with
//! `patchStrategy: merge` are unions, other lists are replaced, and the
//! `$patch`, `$retainKeys`, `$deleteFromPrimitiveList/…` and
//! `$setElementOrder/…` directives are honoured. The merge keys come from the
//! Go types' struct tags, encoded in [`Ty`] below for the built-in kinds.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::error::{ApiError, ApiResult};
use super::resources::{self, ResourceDef};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatchType {
    Json,
    Merge,
    StrategicMerge,
    Apply,
}

impl PatchType {
    /// The patch type a request's Content-Type names; parameters such as
    /// `; charset=utf-8` are ignored.
    pub(crate) fn from_content_type(ct: &str) -> Option<PatchType> {
        let media = ct.split(';').next().unwrap_or_default().trim();
        match media.to_ascii_lowercase().as_str() {
            "application/json-patch+json" => Some(PatchType::Json),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::StrategicMerge),
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => {
                Some(PatchType::Apply)
            }
            _ => None,
        }
    }
}

/// Applies a PATCH body to the current object and returns the patched one.
/// The caller stores it (and so validates and versions it).
pub(crate) fn apply(
    res: &'static ResourceDef,
    current: &Value,
    kind: PatchType,
    body: &[u8],
) -> ApiResult<Value> {
    match kind {
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            let mut doc = current.clone();
            json_patch::patch(&mut doc, &ops).map_err(|e| {
                // The API server answers a failed operation (including a
                // failed `test`) with a 422 whose cause carries the reason.
                ApiError {
                    details: Some(json!({"causes": [{"message": e.to_string()}]})),
                    ..ApiError::new(
                        422,
                        "Invalid",
                        format!(
                            "the server rejected our request due to an error in our request: {e}"
                        ),
                    )
                }
            })?;
            Ok(doc)
        }
        PatchType::Merge => {
            let patch = parse_object(body)?;
            let mut doc = current.clone();
            json_patch::merge(&mut doc, &patch);
            Ok(doc)
        }
        PatchType::StrategicMerge => {
            let patch = parse_object(body)?;
            strategic_merge(res, current, &patch)
        }
        PatchType::Apply => {
            // Server-side apply, simplified: the applied configuration is
            // strategically merged onto the live object. Field ownership and
            // removal of fields a manager stopped applying are not modelled.
            let text = std::str::from_utf8(body)
                .map_err(|e| ApiError::bad_request(format!("the apply body is not UTF-8: {e}")))?;
            let applied: Value = serde_norway::Deserializer::from_str(text)
                .next()
                .map(Value::deserialize)
                .transpose()
                .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?
                .unwrap_or(Value::Null);
            if !applied.is_object() {
                return Err(ApiError::bad_request(
                    "the apply body must be a single Kubernetes object",
                ));
            }
            if current.is_null() {
                return Ok(strip_directives(applied));
            }
            strategic_merge(res, current, &applied)
        }
    }
}

fn parse_object(body: &[u8]) -> ApiResult<Value> {
    let patch: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    if !patch.is_object() {
        return Err(ApiError::bad_request(format!(
            "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_type_name(&patch)
        )));
    }
    Ok(patch)
}

fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Strategic merge patch of `patch` onto `current` for a built-in kind.
pub(crate) fn strategic_merge(
    res: &'static ResourceDef,
    current: &Value,
    patch: &Value,
) -> ApiResult<Value> {
    let mut out = current.clone();
    if !out.is_object() {
        out = json!({});
    }
    let Value::Object(patch) = patch else {
        return Err(ApiError::bad_request("the patch must be a JSON object"));
    };
    merge_map(&mut out, patch, Ty::Root(root_kind(res))).map_err(ApiError::bad_request)?;
    Ok(out)
}

/// The strategic patch `kubectl apply` computes: the new configuration
/// (`modified`) plus deletions of whatever the last-applied configuration
/// (`original`) had and `modified` dropped. Fields that only the live object
/// has (set by other writers) are left alone when the patch is applied.
pub(crate) fn apply_patch(res: &'static ResourceDef, original: &Value, modified: &Value) -> Value {
    let mut patch = modified.clone();
    add_deletions(&mut patch, original, modified, Ty::Root(root_kind(res)));
    patch
}

fn add_deletions(patch: &mut Value, original: &Value, modified: &Value, ty: Ty) {
    let (Some(orig), Some(modi)) = (original.as_object(), modified.as_object()) else {
        return;
    };
    for (k, ov) in orig {
        let Some(mv) = modi.get(k) else {
            patch[k.as_str()] = Value::Null;
            continue;
        };
        let (child_ty, list_kind, _) = field_info(ty, k);
        match (ov, mv, list_kind) {
            (Value::Object(_), Value::Object(_), _) => {
                add_deletions(&mut patch[k.as_str()], ov, mv, child_ty);
            }
            (Value::Array(ol), Value::Array(ml), ListKind::Keyed(key, elem_ty)) => {
                let mut list = ml.clone();
                for (i, me) in ml.iter().enumerate() {
                    if let Some(oe) = ol
                        .iter()
                        .find(|oe| oe.get(key).is_some() && oe.get(key) == me.get(key))
                    {
                        add_deletions(&mut list[i], oe, me, elem_ty);
                    }
                }
                for oe in ol {
                    if let Some(kv) = oe.get(key)
                        && !ml.iter().any(|me| me.get(key) == Some(kv))
                    {
                        list.push(json!({DIRECTIVE: "delete", key: kv}));
                    }
                }
                patch[k.as_str()] = Value::Array(list);
            }
            (Value::Array(ol), Value::Array(ml), ListKind::Set) => {
                let gone: Vec<Value> = ol.iter().filter(|v| !ml.contains(v)).cloned().collect();
                if !gone.is_empty() {
                    patch[format!("{DELETE_PRIMITIVE}{k}")] = Value::Array(gone);
                }
            }
            _ => {}
        }
    }
}

/// Which kinds have patch metadata beyond `metadata`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RootKind {
    Pod,
    PodTemplateOwner,
    CronJob,
    Service,
    Node,
    ServiceAccount,
    Other,
}

fn root_kind(res: &'static ResourceDef) -> RootKind {
    let is = |r: &ResourceDef| std::ptr::eq(res, r);
    if is(&resources::PODS) {
        RootKind::Pod
    } else if is(&resources::DEPLOYMENTS)
        || is(&resources::REPLICASETS)
        || is(&resources::STATEFULSETS)
        || is(&resources::DAEMONSETS)
        || is(&resources::JOBS)
    {
        RootKind::PodTemplateOwner
    } else if is(&resources::CRONJOBS) {
        RootKind::CronJob
    } else if is(&resources::SERVICES) {
        RootKind::Service
    } else if is(&resources::NODES) {
        RootKind::Node
    } else if is(&resources::SERVICE_ACCOUNTS) {
        RootKind::ServiceAccount
    } else {
        RootKind::Other
    }
}

/// The schema position of a JSON object, enough to find list strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Root(RootKind),
    Meta,
    WorkloadSpec,
    PodTemplate,
    PodSpec,
    Container,
    PodStatus,
    ConditionedStatus,
    CronJobSpec,
    JobTemplate,
    ServiceSpec,
    NodeSpec,
    NodeStatus,
    /// No patch metadata below: maps merge, lists are replaced.
    Plain,
}

/// How a list field is patched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListKind {
    /// Atomic: the patch's list replaces the original.
    Replace,
    /// `patchStrategy: merge` on a list of scalars: a set union.
    Set,
    /// `patchStrategy: merge` with a `patchMergeKey`.
    Keyed(&'static str, Ty),
}

/// A field's strategy: the child schema for maps, the list kind for lists,
/// and whether the field has `retainKeys`.
fn field_info(ty: Ty, field: &str) -> (Ty, ListKind, bool) {
    use ListKind::*;
    let plain = (Ty::Plain, Replace, false);
    let keyed = |key, child| (Ty::Plain, Keyed(key, child), false);
    match (ty, field) {
        (Ty::Root(_), "metadata") => (Ty::Meta, Replace, false),
        (Ty::Root(RootKind::Pod), "spec") => (Ty::PodSpec, Replace, false),
        (Ty::Root(RootKind::Pod), "status") => (Ty::PodStatus, Replace, false),
        (Ty::Root(RootKind::PodTemplateOwner), "spec") => (Ty::WorkloadSpec, Replace, false),
        (Ty::Root(RootKind::CronJob), "spec") => (Ty::CronJobSpec, Replace, false),
        (Ty::Root(RootKind::Service), "spec") => (Ty::ServiceSpec, Replace, false),
        (Ty::Root(RootKind::Node), "spec") => (Ty::NodeSpec, Replace, false),
        (Ty::Root(RootKind::Node), "status") => (Ty::NodeStatus, Replace, false),
        (Ty::Root(RootKind::ServiceAccount), "secrets") => keyed("name", Ty::Plain),
        (Ty::Root(_), "status") => (Ty::ConditionedStatus, Replace, false),
        (Ty::Meta, "finalizers") => (Ty::Plain, Set, false),
        (Ty::Meta, "ownerReferences") => keyed("uid", Ty::Plain),
        (Ty::WorkloadSpec, "template") => (Ty::PodTemplate, Replace, false),
        (Ty::WorkloadSpec, "strategy") => (Ty::Plain, Replace, true),
        (Ty::CronJobSpec, "jobTemplate") => (Ty::JobTemplate, Replace, false),
        (Ty::JobTemplate, "metadata") | (Ty::PodTemplate, "metadata") => (Ty::Meta, Replace, false),
        (Ty::JobTemplate, "spec") => (Ty::WorkloadSpec, Replace, false),
        (Ty::PodTemplate, "spec") => (Ty::PodSpec, Replace, false),
        (Ty::PodSpec, "containers" | "initContainers" | "ephemeralContainers") => {
            keyed("name", Ty::Container)
        }
        (Ty::PodSpec, "volumes") => (Ty::Plain, Keyed("name", Ty::Plain), true),
        (Ty::PodSpec, "resourceClaims") => (Ty::Plain, Keyed("name", Ty::Plain), true),
        (Ty::PodSpec, "imagePullSecrets" | "schedulingGates") => keyed("name", Ty::Plain),
        (Ty::PodSpec, "hostAliases") => keyed("ip", Ty::Plain),
        (Ty::PodSpec, "topologySpreadConstraints") => keyed("topologyKey", Ty::Plain),
        (Ty::Container, "ports") => keyed("containerPort", Ty::Plain),
        (Ty::Container, "env") => keyed("name", Ty::Plain),
        (Ty::Container, "volumeMounts") => keyed("mountPath", Ty::Plain),
        (Ty::Container, "volumeDevices") => keyed("devicePath", Ty::Plain),
        (Ty::PodStatus, "conditions") => keyed("type", Ty::Plain),
        (Ty::PodStatus, "podIPs" | "hostIPs") => keyed("ip", Ty::Plain),
        (Ty::PodStatus, "resourceClaimStatuses") => keyed("name", Ty::Plain),
        (Ty::ConditionedStatus, "conditions") => keyed("type", Ty::Plain),
        (Ty::ServiceSpec, "ports") => keyed("port", Ty::Plain),
        (Ty::NodeSpec, "podCIDRs") => (Ty::Plain, Set, false),
        (Ty::NodeStatus, "conditions" | "addresses") => keyed("type", Ty::Plain),
        _ => plain,
    }
}

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_PRIMITIVE: &str = "$deleteFromPrimitiveList/";
const SET_ORDER: &str = "$setElementOrder/";

/// Merges a patch map into `orig` (an object) in place.
fn merge_map(orig: &mut Value, patch: &Map<String, Value>, ty: Ty) -> Result<(), String> {
    if let Some(d) = patch.get(DIRECTIVE) {
        match d.as_str() {
            Some("replace") => {
                let mut p = patch.clone();
                p.remove(DIRECTIVE);
                *orig = strip_directives(Value::Object(p));
                return Ok(());
            }
            Some("delete") => {
                *orig = json!({});
                return Ok(());
            }
            Some("merge") => {}
            _ => return Err(format!("Unknown patch type: {d}")),
        }
    }
    if !orig.is_object() {
        *orig = json!({});
    }
    let Some(o) = orig.as_object_mut() else {
        return Ok(());
    };
    if let Some(retain) = patch.get(RETAIN_KEYS) {
        let Some(keys) = retain.as_array() else {
            return Err(format!(
                "invalid patch: $retainKeys must be a list: {retain}"
            ));
        };
        let keep: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
        o.retain(|k, _| keep.contains(&k.as_str()));
    }
    for (k, v) in patch {
        if let Some(field) = k.strip_prefix(DELETE_PRIMITIVE) {
            let Some(remove) = v.as_array() else {
                return Err(format!("invalid patch: {k} must be a list"));
            };
            if let Some(list) = o.get_mut(field).and_then(Value::as_array_mut) {
                list.retain(|x| !remove.contains(x));
            }
        }
    }
    for (k, pv) in patch {
        if k == DIRECTIVE
            || k == RETAIN_KEYS
            || k.starts_with(DELETE_PRIMITIVE)
            || k.starts_with(SET_ORDER)
        {
            continue;
        }
        if pv.is_null() {
            o.remove(k);
            continue;
        }
        let (child_ty, list_kind, _) = field_info(ty, k);
        match (o.get_mut(k), pv) {
            (Some(ov @ Value::Object(_)), Value::Object(pm)) => merge_map(ov, pm, child_ty)?,
            (Some(Value::Array(ol)), Value::Array(pl)) => {
                let order = patch.get(&format!("{SET_ORDER}{k}"));
                let merged = merge_list(std::mem::take(ol), pl, list_kind, order)?;
                o.insert(k.clone(), Value::Array(merged));
            }
            (_, Value::Object(pm)) => {
                let mut fresh = json!({});
                merge_map(&mut fresh, pm, child_ty)?;
                if pm.get(DIRECTIVE).and_then(Value::as_str) != Some("delete") {
                    o.insert(k.clone(), fresh);
                }
            }
            (_, Value::Array(pl)) => {
                let order = patch.get(&format!("{SET_ORDER}{k}"));
                let merged = merge_list(Vec::new(), pl, list_kind, order)?;
                o.insert(k.clone(), Value::Array(merged));
            }
            (_, other) => {
                o.insert(k.clone(), other.clone());
            }
        }
    }
    // A `$setElementOrder` for a list the patch did not touch still orders it.
    for (k, order) in patch {
        if let Some(field) = k.strip_prefix(SET_ORDER)
            && !patch.contains_key(field)
            && let Some(Value::Array(list)) = o.get_mut(field)
        {
            let (_, list_kind, _) = field_info(ty, field);
            let items = std::mem::take(list);
            *list = apply_order(items, order, list_kind);
        }
    }
    Ok(())
}

fn merge_list(
    mut orig: Vec<Value>,
    patch: &[Value],
    kind: ListKind,
    order: Option<&Value>,
) -> Result<Vec<Value>, String> {
    match kind {
        ListKind::Replace => Ok(patch.iter().cloned().map(strip_directives).collect()),
        ListKind::Set => {
            for v in patch {
                if !orig.contains(v) {
                    orig.push(v.clone());
                }
            }
            Ok(match order {
                Some(order) => apply_order(orig, order, kind),
                None => orig,
            })
        }
        ListKind::Keyed(key, child_ty) => {
            // `{"$patch": "replace"}` as an element replaces the whole list.
            let replace = patch
                .iter()
                .any(|p| p.get(DIRECTIVE).and_then(Value::as_str) == Some("replace"));
            if replace {
                return Ok(patch
                    .iter()
                    .filter(|p| p.get(DIRECTIVE).is_none())
                    .cloned()
                    .map(strip_directives)
                    .collect());
            }
            for p in patch {
                let Some(pm) = p.as_object() else {
                    // A scalar in a keyed list: nothing to merge by, so keep it.
                    if !orig.contains(p) {
                        orig.push(p.clone());
                    }
                    continue;
                };
                let Some(kv) = pm.get(key) else {
                    return Err(format!(
                        "map: {p} does not contain declared merge key: {key}"
                    ));
                };
                let pos = orig.iter().position(|o| o.get(key) == Some(kv));
                match pm.get(DIRECTIVE).and_then(Value::as_str) {
                    Some("delete") => {
                        if let Some(i) = pos {
                            orig.remove(i);
                        }
                    }
                    _ => match pos {
                        Some(i) => merge_map(&mut orig[i], pm, child_ty)?,
                        None => {
                            let mut fresh = json!({});
                            merge_map(&mut fresh, pm, child_ty)?;
                            orig.push(fresh);
                        }
                    },
                }
            }
            Ok(match order {
                Some(order) => apply_order(orig, order, kind),
                None => orig,
            })
        }
    }
}

/// Reorders a merged list by a `$setElementOrder` list: the listed
/// elements take the given order, and elements only the server had keep
/// their place relative to them.
fn apply_order(items: Vec<Value>, order: &Value, kind: ListKind) -> Vec<Value> {
    let Some(order) = order.as_array() else {
        return items;
    };
    let rank = |item: &Value| -> Option<usize> {
        match kind {
            ListKind::Keyed(key, _) => {
                let kv = item.get(key)?;
                order.iter().position(|o| o.get(key) == Some(kv))
            }
            _ => order.iter().position(|o| o == item),
        }
    };
    let mut ranked: Vec<(usize, usize, Value)> = Vec::new();
    let mut server_only: Vec<(usize, Value)> = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match rank(&item) {
            Some(r) => ranked.push((r, i, item)),
            None => server_only.push((i, item)),
        }
    }
    ranked.sort_by_key(|(r, _, _)| *r);
    let mut out = Vec::with_capacity(ranked.len() + server_only.len());
    let mut ranked = ranked.into_iter().peekable();
    let mut server_only = server_only.into_iter().peekable();
    loop {
        match (ranked.peek(), server_only.peek()) {
            (Some((_, ri, _)), Some((si, _))) => {
                if si < ri {
                    out.extend(server_only.next().map(|(_, v)| v));
                } else {
                    out.extend(ranked.next().map(|(_, _, v)| v));
                }
            }
            (Some(_), None) => out.extend(ranked.next().map(|(_, _, v)| v)),
            (None, Some(_)) => out.extend(server_only.next().map(|(_, v)| v)),
            (None, None) => break,
        }
    }
    out
}

/// Removes patch directives from a value that is stored as is (a new field
/// or a replaced list).
fn strip_directives(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(k, _)| {
                    k != DIRECTIVE
                        && k != RETAIN_KEYS
                        && !k.starts_with(DELETE_PRIMITIVE)
                        && !k.starts_with(SET_ORDER)
                })
                .map(|(k, v)| (k, strip_directives(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(strip_directives).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "demo", "labels": {"app": "web"},
                "annotations": {"deployment.kubernetes.io/revision": "2"},
                "finalizers": ["a"]},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [
                            {"name": "web", "image": "nginx:1.25",
                             "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                             "ports": [{"containerPort": 80, "protocol": "TCP"}]},
                            {"name": "sidecar", "image": "busybox", "args": ["sleep", "1d"]}
                        ],
                        "tolerations": [{"key": "a", "operator": "Exists"}],
                        "volumes": [{"name": "data", "emptyDir": {}}]
                    }
                }
            },
            "status": {"replicas": 2, "conditions": [
                {"type": "Available", "status": "True"}, {"type": "Progressing", "status": "True"}]}
        })
    }

    fn smp(cur: &Value, body: Value) -> Value {
        apply(
            &resources::DEPLOYMENTS,
            cur,
            PatchType::StrategicMerge,
            body.to_string().as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn content_types_map_to_patch_types() {
        assert_eq!(
            PatchType::from_content_type("application/strategic-merge-patch+json; charset=utf-8"),
            Some(PatchType::StrategicMerge)
        );
        assert_eq!(
            PatchType::from_content_type("application/json-patch+json"),
            Some(PatchType::Json)
        );
        assert_eq!(
            PatchType::from_content_type("application/merge-patch+json"),
            Some(PatchType::Merge)
        );
        assert_eq!(
            PatchType::from_content_type("application/apply-patch+yaml"),
            Some(PatchType::Apply)
        );
        assert_eq!(PatchType::from_content_type("application/json"), None);
    }

    #[test]
    fn kubectl_set_image_merges_containers_by_name() {
        let out = smp(
            &deployment(),
            json!({"spec":{"template":{"spec":{"containers":[{"image":"nginx:1.26","name":"web"}]}}}}),
        );
        let cs = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(cs.as_array().unwrap().len(), 2);
        assert_eq!(cs[0]["image"], "nginx:1.26");
        assert_eq!(cs[0]["env"][1]["value"], "2");
        assert_eq!(cs[1]["image"], "busybox");
    }

    #[test]
    fn kubectl_rollout_restart_adds_a_template_annotation() {
        let out = smp(
            &deployment(),
            json!({"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2025-01-01T10:00:00Z"}}}}}),
        );
        let meta = &out["spec"]["template"]["metadata"];
        assert_eq!(
            meta["annotations"]["kubectl.kubernetes.io/restartedAt"],
            "2025-01-01T10:00:00Z"
        );
        assert_eq!(meta["labels"]["app"], "web");
        assert_eq!(out["spec"]["replicas"], 2);
    }

    #[test]
    fn kubectl_rollout_undo_statefulset_replaces_the_template() {
        let sts = {
            let mut d = deployment();
            d["kind"] = json!("StatefulSet");
            d
        };
        let body = json!({"spec":{"template":{"$patch":"replace","metadata":{"labels":{"app":"web"}},
            "spec":{"containers":[{"name":"web","image":"nginx:1.24"}]}}}});
        let out = apply(
            &resources::STATEFULSETS,
            &sts,
            PatchType::StrategicMerge,
            body.to_string().as_bytes(),
        )
        .unwrap();
        assert_eq!(
            out["spec"]["template"],
            json!({"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1.24"}]}})
        );
    }

    #[test]
    fn kubectl_rollout_undo_deployment_is_a_json_patch() {
        let tmpl = json!({"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1.24"}]}});
        let body = json!([
            {"op":"replace","path":"/spec/template","value": tmpl},
            {"op":"replace","path":"/metadata/annotations","value":{"deployment.kubernetes.io/revision":"1"}}
        ]);
        let out = apply(
            &resources::DEPLOYMENTS,
            &deployment(),
            PatchType::Json,
            body.to_string().as_bytes(),
        )
        .unwrap();
        assert_eq!(out["spec"]["template"], tmpl);
        assert_eq!(
            out["metadata"]["annotations"],
            json!({"deployment.kubernetes.io/revision":"1"})
        );
    }

    #[test]
    fn json_patch_failures_are_422_and_bad_bodies_400() {
        let body = br#"[{"op":"test","path":"/spec/replicas","value":5}]"#;
        let err = apply(
            &resources::DEPLOYMENTS,
            &deployment(),
            PatchType::Json,
            body,
        )
        .unwrap_err();
        assert_eq!((err.code, err.reason), (422, "Invalid"));
        let err = apply(
            &resources::DEPLOYMENTS,
            &deployment(),
            PatchType::Json,
            b"{nope",
        )
        .unwrap_err();
        assert_eq!(err.code, 400);
        let err = apply(
            &resources::DEPLOYMENTS,
            &deployment(),
            PatchType::Merge,
            b"[1]",
        )
        .unwrap_err();
        assert_eq!(err.code, 400);
    }

    #[test]
    fn kubectl_cordon_and_uncordon() {
        let node = json!({"metadata":{"name":"n1"},"spec":{"podCIDR":"10.244.0.0/24"}});
        let cordoned = apply(
            &resources::NODES,
            &node,
            PatchType::StrategicMerge,
            br#"{"spec":{"unschedulable":true}}"#,
        )
        .unwrap();
        assert_eq!(cordoned["spec"]["unschedulable"], true);
        let back = apply(
            &resources::NODES,
            &cordoned,
            PatchType::StrategicMerge,
            br#"{"spec":{"unschedulable":null}}"#,
        )
        .unwrap();
        assert_eq!(back["spec"], json!({"podCIDR":"10.244.0.0/24"}));
    }

    #[test]
    fn kubectl_label_and_annotate_merge_patches() {
        let out = apply(
            &resources::DEPLOYMENTS,
            &deployment(),
            PatchType::Merge,
            br#"{"metadata":{"labels":{"tier":"fe","app":null}}}"#,
        )
        .unwrap();
        assert_eq!(out["metadata"]["labels"], json!({"tier": "fe"}));
        let out = apply(
            &resources::DEPLOYMENTS,
            &deployment(),
            PatchType::StrategicMerge,
            br#"{"metadata":{"annotations":{"note":"hi"}}}"#,
        )
        .unwrap();
        assert_eq!(out["metadata"]["annotations"]["note"], "hi");
        assert_eq!(
            out["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
            "2"
        );
    }

    #[test]
    fn kubectl_apply_three_way_patch_with_element_order_and_deletes() {
        let body = json!({
            "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}\n"}},
            "spec": {"replicas": 3, "template": {"spec": {
                "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "web"}],
                "containers": [
                    {"name": "web", "image": "nginx:1.26",
                     "$setElementOrder/env": [{"name": "A"}],
                     "env": [{"$patch": "delete", "name": "B"}]},
                    {"name": "sidecar", "args": null}
                ]
            }}}
        });
        let out = smp(&deployment(), body);
        assert_eq!(out["spec"]["replicas"], 3);
        let cs = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(cs[0]["name"], "sidecar");
        assert!(cs[0].get("args").is_none());
        assert_eq!(cs[1]["image"], "nginx:1.26");
        assert_eq!(cs[1]["env"], json!([{"name": "A", "value": "1"}]));
        assert!(
            out["metadata"]["annotations"]
                .get("kubectl.kubernetes.io/last-applied-configuration")
                .is_some()
        );
    }

    #[test]
    fn atomic_lists_are_replaced_and_sets_unioned() {
        let out = smp(
            &deployment(),
            json!({"metadata":{"finalizers":["b","a"]},
                   "spec":{"template":{"spec":{"tolerations":[{"key":"b","operator":"Exists"}],
                   "containers":[{"name":"sidecar","args":["x"]}]}}}}),
        );
        assert_eq!(out["metadata"]["finalizers"], json!(["a", "b"]));
        assert_eq!(
            out["spec"]["template"]["spec"]["tolerations"],
            json!([{"key":"b","operator":"Exists"}])
        );
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][1]["args"],
            json!(["x"])
        );
        let out = smp(
            &out,
            json!({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}}),
        );
        assert_eq!(out["metadata"]["finalizers"], json!(["b"]));
    }

    #[test]
    fn retain_keys_clears_the_old_strategy_fields() {
        let out = smp(
            &deployment(),
            json!({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}),
        );
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
        let out = smp(
            &deployment(),
            json!({"spec":{"template":{"spec":{"volumes":[{"name":"data","$retainKeys":["name","configMap"],"configMap":{"name":"cfg"}}]}}}}),
        );
        assert_eq!(
            out["spec"]["template"]["spec"]["volumes"],
            json!([{"name":"data","configMap":{"name":"cfg"}}])
        );
    }

    #[test]
    fn conditions_merge_by_type_and_list_replace_directive() {
        let out = smp(
            &deployment(),
            json!({"status":{"conditions":[{"type":"Available","status":"False"}]}}),
        );
        let conds = out["status"]["conditions"].as_array().unwrap();
        assert_eq!(conds.len(), 2);
        assert_eq!(conds[0]["status"], "False");
        let out = smp(
            &deployment(),
            json!({"spec":{"template":{"spec":{"containers":[{"$patch":"replace"},{"name":"only","image":"x"}]}}}}),
        );
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name":"only","image":"x"}])
        );
        let err = apply(
            &resources::DEPLOYMENTS,
            &deployment(),
            PatchType::StrategicMerge,
            br#"{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}"#,
        )
        .unwrap_err();
        assert_eq!(err.code, 400);
        assert!(
            err.message
                .contains("does not contain declared merge key: name")
        );
    }

    #[test]
    fn apply_patch_deletes_what_the_last_applied_configuration_dropped() {
        let last = json!({"metadata": {"labels": {"app": "web", "old": "x"}, "finalizers": ["a", "b"]},
            "spec": {"replicas": 2, "paused": false, "template": {"spec": {"containers": [
                {"name": "web", "image": "nginx:1.25", "args": ["-v"]}, {"name": "sidecar", "image": "busybox"}]}}}});
        let new = json!({"metadata": {"labels": {"app": "web"}, "finalizers": ["a"]},
            "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.26"}]}}}});
        let patch = apply_patch(&resources::DEPLOYMENTS, &last, &new);
        let out = strategic_merge(&resources::DEPLOYMENTS, &deployment(), &patch).unwrap();
        assert!(out["metadata"]["labels"].get("old").is_none());
        assert_eq!(out["metadata"]["finalizers"], json!(["a"]));
        assert!(out["spec"].get("paused").is_none());
        let cs = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        assert_eq!(cs.len(), 1);
        assert_eq!(cs[0]["image"], "nginx:1.26");
        assert!(cs[0].get("args").is_none());
        // Fields only the live object has survive.
        assert_eq!(cs[0]["env"][0]["name"], "A");
        assert_eq!(out["status"]["replicas"], 2);
    }

    #[test]
    fn services_merge_ports_by_port() {
        let svc = json!({"spec":{"ports":[{"port":80,"targetPort":8080},{"port":443,"targetPort":8443}]}});
        let out = apply(
            &resources::SERVICES,
            &svc,
            PatchType::StrategicMerge,
            br#"{"spec":{"ports":[{"port":443,"targetPort":9443}]}}"#,
        )
        .unwrap();
        assert_eq!(out["spec"]["ports"][1]["targetPort"], 9443);
        assert_eq!(out["spec"]["ports"][0]["targetPort"], 8080);
    }

    #[test]
    fn server_side_apply_merges_yaml_onto_the_live_object() {
        let body = b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 4\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n";
        let out = apply(
            &resources::DEPLOYMENTS,
            &deployment(),
            PatchType::Apply,
            body,
        )
        .unwrap();
        assert_eq!(out["spec"]["replicas"], 4);
        let cs = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        assert_eq!(cs.len(), 2);
        assert_eq!(cs[0]["image"], "nginx:1.27");
        assert_eq!(out["status"]["replicas"], 2);
        let created = apply(
            &resources::DEPLOYMENTS,
            &Value::Null,
            PatchType::Apply,
            body,
        )
        .unwrap();
        assert_eq!(created["spec"]["replicas"], 4);
    }
}
