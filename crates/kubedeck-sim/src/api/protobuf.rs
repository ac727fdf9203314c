//! Request bodies in Kubernetes' protobuf encoding
//! (`application/vnd.kubernetes.protobuf`), for the kinds kubectl's typed
//! clients send that way: `kubectl create namespace|configmap|secret|
//! serviceaccount|role|rolebinding|clusterrole|clusterrolebinding|pdb`,
//! `auth can-i` and `drain`'s evictions (kubectl ≥ 1.35 sends protobuf
//! where older ones sent JSON). A body is the `k8s\0` magic and a
//! `runtime.Unknown` envelope: its type (apiVersion, kind) and the object's
//! own bytes, decoded here with the field numbers of the Kubernetes
//! `generated.proto` files into the JSON the rest of the server works on.
//!
//! Go's encoder writes every non-pointer field, empty ones too; as Go's
//! JSON encoder leaves out empty `omitempty` fields, empty strings, zero
//! numbers, false, empty messages and empty lists are dropped here, except
//! for the pointer fields where a zero is meaningful (`gracePeriodSeconds:
//! 0`, `immutable: false`, an IntOrString of 0).
//!
//! The pod-template kinds and Pod are decoded too, with tables generated
//! from Kubernetes' own (`protobuf_workloads`). Other kinds are refused
//! with 415 Unsupported Media Type and the media types that are accepted.

use base64::Engine as _;

use super::protobuf_workloads as workloads;
use serde_json::{Map, Value, json};

/// What a field holds.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    Str,
    Bool,
    Int,
    Msg(&'static [Field]),
    MapStr,
    /// A map of bytes, shown as base64 as JSON shows `[]byte`.
    MapBytes,
    /// `metav1.Time`: seconds and nanos, shown in RFC 3339.
    Time,
    /// `intstr.IntOrString`: a number or a string.
    IntOrString,
    /// `resource.Quantity`: its string.
    Quantity,
    /// A map of Quantities (resource requests and limits).
    MapQuantity,
    /// A Go struct embedded inline: its fields are the parent's in JSON.
    Inline(&'static [Field]),
}

#[derive(Clone, Copy)]
pub(super) struct Field {
    num: u64,
    name: &'static str,
    kind: Kind,
    repeated: bool,
    /// A Go pointer: sent only when set, so a zero value is kept.
    pointer: bool,
}

pub(super) const fn f(num: u64, name: &'static str, kind: Kind) -> Field {
    Field {
        num,
        name,
        kind,
        repeated: false,
        pointer: false,
    }
}

pub(super) const fn list(num: u64, name: &'static str, kind: Kind) -> Field {
    Field {
        repeated: true,
        ..f(num, name, kind)
    }
}

pub(super) const fn ptr(num: u64, name: &'static str, kind: Kind) -> Field {
    Field {
        pointer: true,
        ..f(num, name, kind)
    }
}

const OWNER_REFERENCE: &[Field] = &[
    f(5, "apiVersion", Kind::Str),
    f(1, "kind", Kind::Str),
    f(3, "name", Kind::Str),
    f(4, "uid", Kind::Str),
    ptr(6, "controller", Kind::Bool),
    ptr(7, "blockOwnerDeletion", Kind::Bool),
];

pub(super) const OBJECT_META: &[Field] = &[
    f(1, "name", Kind::Str),
    f(2, "generateName", Kind::Str),
    f(3, "namespace", Kind::Str),
    f(5, "uid", Kind::Str),
    f(6, "resourceVersion", Kind::Str),
    f(7, "generation", Kind::Int),
    f(8, "creationTimestamp", Kind::Time),
    f(11, "labels", Kind::MapStr),
    f(12, "annotations", Kind::MapStr),
    list(13, "ownerReferences", Kind::Msg(OWNER_REFERENCE)),
    list(14, "finalizers", Kind::Str),
];

const META: Field = f(1, "metadata", Kind::Msg(OBJECT_META));

const NAMESPACE: &[Field] = &[
    META,
    f(2, "spec", Kind::Msg(&[list(1, "finalizers", Kind::Str)])),
];

const CONFIG_MAP: &[Field] = &[
    META,
    f(2, "data", Kind::MapStr),
    f(3, "binaryData", Kind::MapBytes),
    ptr(4, "immutable", Kind::Bool),
];

const SECRET: &[Field] = &[
    META,
    f(2, "data", Kind::MapBytes),
    f(3, "type", Kind::Str),
    f(4, "stringData", Kind::MapStr),
    ptr(5, "immutable", Kind::Bool),
];

const LOCAL_OBJECT_REFERENCE: &[Field] = &[f(1, "name", Kind::Str)];

const SERVICE_ACCOUNT: &[Field] = &[
    META,
    list(3, "imagePullSecrets", Kind::Msg(LOCAL_OBJECT_REFERENCE)),
    ptr(4, "automountServiceAccountToken", Kind::Bool),
];

const RESOURCE_ATTRIBUTES: &[Field] = &[
    f(1, "namespace", Kind::Str),
    f(2, "verb", Kind::Str),
    f(3, "group", Kind::Str),
    f(4, "version", Kind::Str),
    f(5, "resource", Kind::Str),
    f(6, "subresource", Kind::Str),
    f(7, "name", Kind::Str),
];

const NON_RESOURCE_ATTRIBUTES: &[Field] = &[f(1, "path", Kind::Str), f(2, "verb", Kind::Str)];

const SELF_SUBJECT_ACCESS_REVIEW: &[Field] = &[
    META,
    f(
        2,
        "spec",
        Kind::Msg(&[
            ptr(1, "resourceAttributes", Kind::Msg(RESOURCE_ATTRIBUTES)),
            ptr(
                2,
                "nonResourceAttributes",
                Kind::Msg(NON_RESOURCE_ATTRIBUTES),
            ),
        ]),
    ),
];

const SELF_SUBJECT_RULES_REVIEW: &[Field] = &[
    META,
    f(2, "spec", Kind::Msg(&[f(1, "namespace", Kind::Str)])),
];

const PRECONDITIONS: &[Field] = &[
    ptr(1, "uid", Kind::Str),
    ptr(2, "resourceVersion", Kind::Str),
];

const DELETE_OPTIONS: &[Field] = &[
    ptr(1, "gracePeriodSeconds", Kind::Int),
    ptr(2, "preconditions", Kind::Msg(PRECONDITIONS)),
    ptr(3, "orphanDependents", Kind::Bool),
    ptr(4, "propagationPolicy", Kind::Str),
    list(5, "dryRun", Kind::Str),
];

const EVICTION: &[Field] = &[META, ptr(2, "deleteOptions", Kind::Msg(DELETE_OPTIONS))];

pub(super) const LABEL_SELECTOR: &[Field] = &[
    f(1, "matchLabels", Kind::MapStr),
    list(
        2,
        "matchExpressions",
        Kind::Msg(&[
            f(1, "key", Kind::Str),
            f(2, "operator", Kind::Str),
            list(3, "values", Kind::Str),
        ]),
    ),
];

const POD_DISRUPTION_BUDGET: &[Field] = &[
    META,
    f(
        2,
        "spec",
        Kind::Msg(&[
            ptr(1, "minAvailable", Kind::IntOrString),
            ptr(2, "selector", Kind::Msg(LABEL_SELECTOR)),
            ptr(3, "maxUnavailable", Kind::IntOrString),
            ptr(4, "unhealthyPodEvictionPolicy", Kind::Str),
        ]),
    ),
];

const POLICY_RULE: &[Field] = &[
    list(1, "verbs", Kind::Str),
    list(2, "apiGroups", Kind::Str),
    list(3, "resources", Kind::Str),
    list(4, "resourceNames", Kind::Str),
    list(5, "nonResourceURLs", Kind::Str),
];

const ROLE: &[Field] = &[META, list(2, "rules", Kind::Msg(POLICY_RULE))];

const BINDING: &[Field] = &[
    META,
    list(
        2,
        "subjects",
        Kind::Msg(&[
            f(1, "kind", Kind::Str),
            f(2, "apiGroup", Kind::Str),
            f(3, "name", Kind::Str),
            f(4, "namespace", Kind::Str),
        ]),
    ),
    f(
        3,
        "roleRef",
        Kind::Msg(&[
            f(1, "apiGroup", Kind::Str),
            f(2, "kind", Kind::Str),
            f(3, "name", Kind::Str),
        ]),
    ),
];

/// The kinds decoded, by apiVersion and kind.
fn schema(api_version: &str, kind: &str) -> Option<&'static [Field]> {
    Some(match (api_version, kind) {
        ("v1", "Namespace") => NAMESPACE,
        ("v1", "ConfigMap") => CONFIG_MAP,
        ("v1", "Secret") => SECRET,
        ("v1", "ServiceAccount") => SERVICE_ACCOUNT,
        ("authorization.k8s.io/v1", "SelfSubjectAccessReview") => SELF_SUBJECT_ACCESS_REVIEW,
        ("authorization.k8s.io/v1", "SelfSubjectRulesReview") => SELF_SUBJECT_RULES_REVIEW,
        ("policy/v1", "Eviction") => EVICTION,
        ("policy/v1", "PodDisruptionBudget") => POD_DISRUPTION_BUDGET,
        ("rbac.authorization.k8s.io/v1", "Role" | "ClusterRole") => ROLE,
        ("rbac.authorization.k8s.io/v1", "RoleBinding" | "ClusterRoleBinding") => BINDING,
        ("apps/v1", "Deployment") => workloads::DEPLOYMENT,
        ("apps/v1", "ReplicaSet") => workloads::REPLICA_SET,
        ("apps/v1", "StatefulSet") => workloads::STATEFUL_SET,
        ("apps/v1", "DaemonSet") => workloads::DAEMON_SET,
        ("batch/v1", "Job") => workloads::JOB,
        ("batch/v1", "CronJob") => workloads::CRON_JOB,
        ("v1", "Pod") => workloads::POD,
        _ => return None,
    })
}

pub(crate) const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// Why a protobuf body is not taken: malformed (400), or of a kind the
/// simulator does not decode (415).
#[derive(Debug, PartialEq)]
pub(crate) enum Refusal {
    Malformed(String),
    Unsupported(String),
}

/// Decodes a protobuf request body into the object's JSON.
pub(crate) fn decode(body: &[u8]) -> Result<Value, Refusal> {
    let malformed = |why: &str| Refusal::Malformed(why.to_string());
    let envelope = body
        .strip_prefix(b"k8s\0")
        .ok_or_else(|| malformed("the protobuf body lacks the k8s magic prefix"))?;
    let mut api_version = String::new();
    let mut kind = String::new();
    let mut raw: &[u8] = &[];
    for item in Reader(envelope) {
        match item.map_err(|e| malformed(&e))? {
            (1, Wire::Len(type_meta)) => {
                for tm in Reader(type_meta) {
                    match tm.map_err(|e| malformed(&e))? {
                        (1, Wire::Len(b)) => api_version = utf8(b).map_err(|e| malformed(&e))?,
                        (2, Wire::Len(b)) => kind = utf8(b).map_err(|e| malformed(&e))?,
                        _ => {}
                    }
                }
            }
            (2, Wire::Len(b)) => raw = b,
            _ => {}
        }
    }
    let fields = schema(&api_version, &kind).ok_or_else(|| {
        Refusal::Unsupported(format!(
            "the body of the request was in an unknown format - the simulator decodes {api_version} {kind} from JSON or YAML only: accepted media types include: application/json, application/yaml"
        ))
    })?;
    let mut obj = message(raw, fields).map_err(|e| malformed(&e))?;
    obj.insert("apiVersion".into(), json!(api_version));
    obj.insert("kind".into(), json!(kind));
    Ok(Value::Object(obj))
}

enum Wire<'a> {
    Varint(u64),
    Len(&'a [u8]),
    Fixed,
}

/// The (field number, value) pairs of one message's bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, String> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self
                .0
                .split_first()
                .ok_or_else(|| "truncated varint".to_string())?;
            self.0 = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint too long".into())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.0.len() {
            return Err("truncated field".into());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<(u64, Wire<'a>), String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let item = (|| {
            let tag = self.varint()?;
            let wire = match tag & 7 {
                0 => Wire::Varint(self.varint()?),
                1 => {
                    self.take(8)?;
                    Wire::Fixed
                }
                2 => {
                    let n = usize::try_from(self.varint()?).map_err(|e| e.to_string())?;
                    Wire::Len(self.take(n)?)
                }
                5 => {
                    self.take(4)?;
                    Wire::Fixed
                }
                w => return Err(format!("unsupported wire type {w}")),
            };
            Ok((tag >> 3, wire))
        })();
        if item.is_err() {
            // Stop after an error: the rest can't be framed.
            self.0 = &[];
        }
        Some(item)
    }
}

/// A `resource.Quantity` message: its one string field.
fn quantity(b: &[u8]) -> Result<Value, String> {
    let mut out = String::new();
    for item in Reader(b) {
        if let (1, Wire::Len(x)) = item? {
            out = utf8(x)?;
        }
    }
    Ok(json!(out))
}

fn utf8(b: &[u8]) -> Result<String, String> {
    String::from_utf8(b.to_vec()).map_err(|e| e.to_string())
}

fn message(bytes: &[u8], fields: &[Field]) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for item in Reader(bytes) {
        let (num, wire) = item?;
        // Fields the simulator has no use for are skipped, as an older
        // server skips fields it does not know.
        let Some(field) = fields.iter().find(|f| f.num == num) else {
            continue;
        };
        if let (Kind::Inline(inner), Wire::Len(b)) = (field.kind, &wire) {
            out.extend(message(b, inner)?);
            continue;
        }
        let value = scalar(field, wire)?;
        match (field.kind, value) {
            (Kind::MapStr | Kind::MapBytes | Kind::MapQuantity, Value::Array(entry)) => {
                let map = out
                    .entry(field.name)
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
                    .ok_or("a map field repeated as a scalar")?;
                if let [Value::String(k), v] = entry.as_slice() {
                    map.insert(k.clone(), v.clone());
                }
            }
            (_, v) if field.repeated => {
                if let Some(a) = out
                    .entry(field.name)
                    .or_insert_with(|| json!([]))
                    .as_array_mut()
                {
                    a.push(v);
                }
            }
            (_, v) => {
                out.insert(field.name.to_string(), v);
            }
        }
    }
    // As Go's JSON leaves out empty omitempty fields (pointers excepted).
    out.retain(|name, v| {
        let pointer = is_pointer(fields, name);
        match v {
            Value::String(s) => pointer || !s.is_empty(),
            Value::Bool(b) => pointer || *b,
            Value::Number(n) => pointer || n.as_i64() != Some(0),
            Value::Object(m) => pointer || !m.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Null => false,
        }
    });
    Ok(out)
}

/// Whether the field of that name, here or in an inline struct, is a Go
/// pointer.
fn is_pointer(fields: &[Field], name: &str) -> bool {
    fields.iter().any(|f| match f.kind {
        Kind::Inline(inner) => is_pointer(inner, name),
        _ => f.name == name && f.pointer,
    })
}

/// One occurrence of a field; a map entry comes back as `[key, value]`.
fn scalar(field: &Field, wire: Wire<'_>) -> Result<Value, String> {
    let b64 = |b: &[u8]| json!(base64::engine::general_purpose::STANDARD.encode(b));
    Ok(match (field.kind, wire) {
        (Kind::Str, Wire::Len(b)) => json!(utf8(b)?),
        (Kind::Bool, Wire::Varint(v)) => json!(v != 0),
        // int64/int32: two's complement in ten bytes when negative.
        (Kind::Int, Wire::Varint(v)) => json!(v as i64),
        (Kind::Msg(fields), Wire::Len(b)) => Value::Object(message(b, fields)?),
        (Kind::Quantity, Wire::Len(b)) => quantity(b)?,
        (Kind::MapStr | Kind::MapBytes | Kind::MapQuantity, Wire::Len(b)) => {
            let (mut k, mut v) = (String::new(), Value::String(String::new()));
            for item in Reader(b) {
                match item? {
                    (1, Wire::Len(x)) => k = utf8(x)?,
                    (2, Wire::Len(x)) if matches!(field.kind, Kind::MapBytes) => v = b64(x),
                    (2, Wire::Len(x)) if matches!(field.kind, Kind::MapQuantity) => {
                        v = quantity(x)?
                    }
                    (2, Wire::Len(x)) => v = json!(utf8(x)?),
                    _ => {}
                }
            }
            json!([k, v])
        }
        (Kind::Time, Wire::Len(b)) => {
            let (mut secs, mut nanos) = (0i64, 0u32);
            for item in Reader(b) {
                match item? {
                    (1, Wire::Varint(v)) => secs = v as i64,
                    (2, Wire::Varint(v)) => nanos = u32::try_from(v).unwrap_or(0),
                    _ => {}
                }
            }
            if secs == 0 && nanos == 0 {
                Value::Null
            } else {
                chrono::DateTime::from_timestamp(secs, nanos)
                    .map(|t| json!(crate::store::fmt_time(t)))
                    .unwrap_or(Value::Null)
            }
        }
        (Kind::IntOrString, Wire::Len(b)) => {
            let (mut is_str, mut int, mut s) = (false, 0i64, String::new());
            for item in Reader(b) {
                match item? {
                    (1, Wire::Varint(t)) => is_str = t == 1,
                    (2, Wire::Varint(v)) => int = v as i64,
                    (3, Wire::Len(x)) => s = utf8(x)?,
                    _ => {}
                }
            }
            if is_str { json!(s) } else { json!(int) }
        }
        _ => return Err(format!("field {} has an unexpected wire type", field.name)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A protobuf writer, enough to build bodies as kubectl does.
    fn tag(num: u64, wire: u64) -> Vec<u8> {
        varint((num << 3) | wire)
    }

    fn varint(mut v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return out;
            }
            out.push(b | 0x80);
        }
    }

    fn len(num: u64, bytes: &[u8]) -> Vec<u8> {
        let mut out = tag(num, 2);
        out.extend(varint(bytes.len() as u64));
        out.extend_from_slice(bytes);
        out
    }

    fn int(num: u64, v: u64) -> Vec<u8> {
        let mut out = tag(num, 0);
        out.extend(varint(v));
        out
    }

    fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
        let type_meta = [len(1, api_version.as_bytes()), len(2, kind.as_bytes())].concat();
        let mut out = b"k8s\0".to_vec();
        out.extend(len(1, &type_meta));
        out.extend(len(2, raw));
        out.extend(len(3, b""));
        out.extend(len(4, b""));
        out
    }

    #[test]
    fn kubectl_create_namespace_as_kubectl_1_37_sends_it() {
        // The bytes kubectl v1.37 sends for `kubectl create namespace svr`.
        let body = b"k8s\0\x0a\x0f\x0a\x02v1\x12\x09Namespace\x12\x1b\x0a\x13\x0a\x03svr\x12\x00\x1a\x00\x22\x00\x2a\x00\x32\x00\x38\x00\x42\x00\x12\x00\x1a\x02\x0a\x00\x1a\x00\x22\x00";
        assert_eq!(
            decode(body).unwrap(),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "svr"}})
        );
    }

    #[test]
    fn maps_lists_pointers_and_int_or_strings() {
        let meta = [
            len(1, b"web"),
            len(2, b""),
            len(11, &[len(1, b"app"), len(2, b"web")].concat()),
        ]
        .concat();
        let cm = [
            len(1, &meta),
            len(2, &[len(1, b"a"), len(2, b"b")].concat()),
            len(3, &[len(1, b"bin"), len(2, b"\x00\x01")].concat()),
            int(4, 0),
        ]
        .concat();
        assert_eq!(
            decode(&envelope("v1", "ConfigMap", &cm)).unwrap(),
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "web", "labels": {"app": "web"}},
                   "data": {"a": "b"}, "binaryData": {"bin": "AAE="}, "immutable": false})
        );
        let selector = len(1, &[len(1, b"app"), len(2, b"web")].concat());
        let spec = [
            len(1, &[int(1, 1), int(2, 0), len(3, b"50%")].concat()),
            len(2, &selector),
        ]
        .concat();
        let pdb = [len(1, &len(1, b"web")), len(2, &spec)].concat();
        assert_eq!(
            decode(&envelope("policy/v1", "PodDisruptionBudget", &pdb)).unwrap()["spec"],
            json!({"minAvailable": "50%", "selector": {"matchLabels": {"app": "web"}}})
        );
        let review = len(
            2,
            &len(
                1,
                &[
                    len(1, b"demo"),
                    len(2, b"create"),
                    len(3, b"apps"),
                    len(5, b"deployments"),
                ]
                .concat(),
            ),
        );
        assert_eq!(
            decode(&envelope(
                "authorization.k8s.io/v1",
                "SelfSubjectAccessReview",
                &review
            ))
            .unwrap()["spec"],
            json!({"resourceAttributes": {"namespace": "demo", "verb": "create",
                                          "group": "apps", "resource": "deployments"}})
        );
        let eviction = [len(1, &len(1, b"web-1")), len(2, &int(1, 0))].concat();
        assert_eq!(
            decode(&envelope("policy/v1", "Eviction", &eviction)).unwrap()["deleteOptions"],
            json!({"gracePeriodSeconds": 0})
        );
    }

    #[test]
    fn other_kinds_are_unsupported_and_garbage_is_malformed() {
        let service = envelope("v1", "Service", &len(1, &len(1, b"web")));
        assert!(matches!(decode(&service), Err(Refusal::Unsupported(_))));
        assert!(matches!(decode(b"{}"), Err(Refusal::Malformed(_))));
        let truncated = [b"k8s\0".as_slice(), &[0x0a, 0x05, 0x0a]].concat();
        assert!(matches!(decode(&truncated), Err(Refusal::Malformed(_))));
    }

    #[test]
    fn kubectl_create_deployment_as_kubectl_1_37_sends_it() {
        // The bytes kubectl v1.37 sends for `kubectl create deployment made
        // --image=registry.example/made:1 --port=8080 --replicas=3 -n demo`.
        let body = b"k8s\x00\x0a\x15\x0a\x07apps/v1\x12\x0aDeployment\x12\xd2\x01\x0a%\x0a\x04made\x12\x00\x1a\x04demo\x22\x00*\x002\x008\x00B\x00Z\x0b\x0a\x03app\x12\x04made\x12\x9a\x01\x08\x03\x12\x0d\x0a\x0b\x0a\x03app\x12\x04made\x1a\x7f\x0a\x1d\x0a\x00\x12\x00\x1a\x00\x22\x00*\x002\x008\x00B\x00Z\x0b\x0a\x03app\x12\x04made\x12^\x12@\x0a\x04made\x12\x17registry.example/made:1*\x002\x0b\x0a\x00\x10\x00\x18\x90?\x22\x00*\x00B\x00j\x00r\x00\x80\x01\x00\x88\x01\x00\x90\x01\x00\xa2\x01\x00\x1a\x002\x00B\x00J\x00R\x00X\x00`\x00h\x00\x82\x01\x00\x8a\x01\x00\x9a\x01\x00\xc2\x01\x00\x22\x02\x0a\x00(\x008\x00\x1a\x0c\x08\x00\x10\x00\x18\x00 \x00(\x008\x00\x1a\x00\x22\x00";
        assert_eq!(
            decode(body).unwrap(),
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "made", "namespace": "demo", "labels": {"app": "made"}},
                "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "made"}},
                    "template": {"metadata": {"labels": {"app": "made"}},
                        "spec": {"containers": [{"name": "made", "image": "registry.example/made:1",
                            "ports": [{"containerPort": 8080}]}]}}}})
        );
    }

    #[test]
    fn pod_specs_keep_resources_env_probes_and_volumes() {
        let quantity = |v: &[u8]| len(1, v);
        let entry = |k: &[u8], v: &[u8]| [len(1, k), len(2, v)].concat();
        let resources = [
            len(1, &entry(b"cpu", &quantity(b"500m"))),
            len(2, &entry(b"memory", &quantity(b"128Mi"))),
        ]
        .concat();
        // readinessProbe.handler.httpGet {path, port: "http"}, periodSeconds 5.
        let port = [int(1, 1), len(3, b"http")].concat();
        let http_get = [len(1, b"/healthz"), len(2, &port)].concat();
        let probe = [len(1, &len(2, &http_get)), int(4, 5)].concat();
        let container = [
            len(1, b"web"),
            len(2, b"registry.example/web:1"),
            len(7, &[len(1, b"MODE"), len(2, b"fast")].concat()),
            len(8, &resources),
            len(9, &[len(1, b"data"), len(3, b"/data")].concat()),
            len(11, &probe),
        ]
        .concat();
        let volume = [len(1, b"data"), len(2, &len(2, b""))].concat();
        let pod_spec = [len(1, &volume), len(2, &container), int(4, 0)].concat();
        let template = [len(1, &len(11, &entry(b"app", b"web"))), len(2, &pod_spec)].concat();
        let spec = [int(1, 0), len(3, &template)].concat();
        let body = envelope(
            "apps/v1",
            "StatefulSet",
            &[len(1, &len(1, b"db")), len(2, &spec)].concat(),
        );
        let got = decode(&body).unwrap();
        let spec = &got["spec"];
        assert_eq!(spec["replicas"], 0, "a pointer's zero is kept");
        let pod = &spec["template"]["spec"];
        assert_eq!(pod["terminationGracePeriodSeconds"], 0);
        assert_eq!(pod["volumes"], json!([{"name": "data", "emptyDir": {}}]));
        let c = &pod["containers"][0];
        assert_eq!(c["env"], json!([{"name": "MODE", "value": "fast"}]));
        assert_eq!(
            c["resources"],
            json!({"limits": {"cpu": "500m"}, "requests": {"memory": "128Mi"}})
        );
        assert_eq!(
            c["volumeMounts"],
            json!([{"name": "data", "mountPath": "/data"}])
        );
        assert_eq!(
            c["readinessProbe"],
            json!({"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5})
        );
    }
}
