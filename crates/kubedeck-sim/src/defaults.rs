//! Defaulting, as the API server applies it on create and update (the
//! `SetDefaults_*` functions plus the admission plugins every cluster runs:
//! ServiceAccount, DefaultTolerationSeconds, Priority, and the namespace
//! name label). Every rule only fills what is missing, so applying it again
//! on each update changes nothing.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::hash::fnv64;
use super::resources::{self, ResourceDef};

/// Fills in the fields a real API server defaults for this kind.
pub(crate) fn apply(res: &'static ResourceDef, obj: &mut Value) {
    if !obj.is_object() {
        return;
    }
    let is = |r: &ResourceDef| std::ptr::eq(res, r);
    if is(&resources::PODS) {
        pod(obj);
    } else if is(&resources::CRDS) {
        crate::crd::apply_defaults(obj);
    } else if is(&resources::DEPLOYMENTS) {
        deployment(obj);
    } else if is(&resources::REPLICASETS) {
        set_default(&mut obj["spec"], "replicas", json!(1));
        pod_template(&mut obj["spec"]["template"]);
    } else if is(&resources::STATEFULSETS) {
        statefulset(obj);
    } else if is(&resources::DAEMONSETS) {
        daemonset(obj);
    } else if is(&resources::JOBS) {
        job(obj);
    } else if is(&resources::CRONJOBS) {
        cronjob(obj);
    } else if is(&resources::SERVICES) {
        service(obj);
    } else if is(&resources::NAMESPACES) {
        namespace(obj);
    } else if is(&resources::HPAS) {
        hpa(obj);
    } else if is(&resources::PVCS) {
        pvc(obj);
    } else if is(&resources::SECRETS) {
        secret(obj);
    } else if is(&resources::STORAGE_CLASSES) {
        set_default(obj, "reclaimPolicy", json!("Delete"));
        set_default(obj, "volumeBindingMode", json!("Immediate"));
    } else if is(&resources::PVS) {
        pv(obj);
    }
}

/// Sets `obj[key]` when it is missing or null; `obj` becomes an object.
fn set_default(obj: &mut Value, key: &str, value: Value) {
    if !obj.is_object() {
        *obj = json!({});
    }
    if obj[key].is_null() {
        obj[key] = value;
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

/// `Always` for `:latest` or untagged images, else `IfNotPresent`.
fn image_pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn probe(p: &mut Value) {
    if !p.is_object() {
        return;
    }
    set_default(p, "timeoutSeconds", json!(1));
    set_default(p, "periodSeconds", json!(10));
    set_default(p, "successThreshold", json!(1));
    set_default(p, "failureThreshold", json!(3));
    if p["httpGet"].is_object() {
        set_default(&mut p["httpGet"], "path", json!("/"));
        set_default(&mut p["httpGet"], "scheme", json!("HTTP"));
    }
}

fn container(c: &mut Value) {
    if !c.is_object() {
        return;
    }
    let policy = image_pull_policy(str_of(c, "image"));
    set_default(c, "imagePullPolicy", json!(policy));
    set_default(c, "terminationMessagePath", json!("/dev/termination-log"));
    set_default(c, "terminationMessagePolicy", json!("File"));
    set_default(c, "resources", json!({}));
    if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter(|p| p.is_object()) {
            set_default(p, "protocol", json!("TCP"));
        }
    }
    if let Some(env) = c.get_mut("env").and_then(Value::as_array_mut) {
        for e in env {
            if e["valueFrom"]["fieldRef"].is_object() {
                set_default(&mut e["valueFrom"]["fieldRef"], "apiVersion", json!("v1"));
            }
        }
    }
    for p in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(pr) = c.get_mut(p) {
            probe(pr);
        }
    }
}

/// `SetDefaults_PodSpec` and its nested types; applies to templates too.
fn pod_spec(spec: &mut Value) {
    if !spec.is_object() {
        *spec = json!({});
    }
    set_default(spec, "restartPolicy", json!("Always"));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    set_default(spec, "dnsPolicy", json!("ClusterFirst"));
    set_default(spec, "securityContext", json!({}));
    set_default(spec, "schedulerName", json!("default-scheduler"));
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        if let Some(cs) = spec.get_mut(list).and_then(Value::as_array_mut) {
            cs.iter_mut().for_each(container);
        }
    }
    if let Some(vols) = spec.get_mut("volumes").and_then(Value::as_array_mut) {
        for v in vols {
            for src in ["configMap", "secret", "projected", "downwardAPI"] {
                if v[src].is_object() {
                    set_default(&mut v[src], "defaultMode", json!(420));
                }
            }
        }
    }
    // The deprecated alias mirrors serviceAccountName, as conversion does.
    let sa = str_of(spec, "serviceAccountName").to_string();
    if !sa.is_empty() {
        set_default(spec, "serviceAccount", json!(sa));
    }
}

fn pod_template(tmpl: &mut Value) {
    if !tmpl.is_object() {
        *tmpl = json!({});
    }
    set_default(tmpl, "metadata", json!({}));
    pod_spec(&mut tmpl["spec"]);
}

/// The QoS class the API server records when a pod is created.
fn qos_class(spec: &Value) -> &'static str {
    let mut any = false;
    let mut guaranteed = true;
    let containers = spec["containers"]
        .as_array()
        .into_iter()
        .chain(spec["initContainers"].as_array())
        .flatten();
    for c in containers {
        let req = &c["resources"]["requests"];
        let lim = &c["resources"]["limits"];
        for r in ["cpu", "memory"] {
            let (rq, lm) = (&req[r], &lim[r]);
            if !rq.is_null() || !lm.is_null() {
                any = true;
            }
            // Requests default to limits, so only differing requests matter.
            if lm.is_null() || (!rq.is_null() && rq != lm) {
                guaranteed = false;
            }
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

fn pod(obj: &mut Value) {
    pod_spec(&mut obj["spec"]);
    let spec = &mut obj["spec"];
    set_default(spec, "serviceAccountName", json!("default"));
    set_default(
        spec,
        "serviceAccount",
        json!(str_of(spec, "serviceAccountName")),
    );
    // `SetDefaults_Pod`, not `SetDefaults_PodSpec`: templates keep it unset.
    set_default(spec, "enableServiceLinks", json!(true));
    // Priority admission: no PriorityClass, priority 0 and the default
    // preemption policy.
    set_default(spec, "priority", json!(0));
    set_default(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
    // DefaultTolerationSeconds admission.
    let mut tolerations = spec["tolerations"].as_array().cloned().unwrap_or_default();
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        let present = tolerations.iter().any(|t| {
            (str_of(t, "key") == key
                || (str_of(t, "key").is_empty() && str_of(t, "operator") == "Exists"))
                && matches!(str_of(t, "effect"), "" | "NoExecute")
        });
        if !present {
            tolerations.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}));
        }
    }
    spec["tolerations"] = Value::Array(tolerations);
    let qos = qos_class(&obj["spec"]);
    let status = &mut obj["status"];
    set_default(status, "phase", json!("Pending"));
    set_default(status, "qosClass", json!(qos));
}

/// Where the ServiceAccount admission plugin mounts the token.
const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The ServiceAccount admission plugin on a pod's create: unless the pod
/// opts out (`automountServiceAccountToken: false`) or already mounts
/// something at the token's path, a projected `kube-api-access-<suffix>`
/// volume (the bound token, the cluster CA, the namespace) mounted
/// read-only into every container and init container.
pub(crate) fn service_account_token(pod: &mut Value, suffix: &str) {
    let spec = &mut pod["spec"];
    if spec["automountServiceAccountToken"].as_bool() == Some(false) {
        return;
    }
    let lists = ["initContainers", "containers"];
    let mounted = lists.iter().any(|l| {
        spec.get(*l)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|c| {
                c["volumeMounts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|m| m["mountPath"] == TOKEN_MOUNT_PATH)
            })
    });
    if mounted {
        return;
    }
    let name = format!("kube-api-access-{suffix}");
    let volume = json!({
        "name": name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt",
                               "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef":
                    {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
            ],
        },
    });
    match spec["volumes"].as_array_mut() {
        Some(v) => v.push(volume),
        None => spec["volumes"] = json!([volume]),
    }
    let mount = json!({"name": name, "readOnly": true, "mountPath": TOKEN_MOUNT_PATH});
    for l in lists {
        let containers = spec.get_mut(l).and_then(Value::as_array_mut);
        for c in containers.into_iter().flatten() {
            match c["volumeMounts"].as_array_mut() {
                Some(m) => m.push(mount.clone()),
                None => c["volumeMounts"] = json!([mount.clone()]),
            }
        }
    }
}

fn deployment(obj: &mut Value) {
    let spec = &mut obj["spec"];
    set_default(spec, "replicas", json!(1));
    set_default(spec, "strategy", json!({}));
    set_default(&mut spec["strategy"], "type", json!("RollingUpdate"));
    if str_of(&spec["strategy"], "type") == "RollingUpdate" {
        let ru = &mut spec["strategy"]["rollingUpdate"];
        set_default(ru, "maxUnavailable", json!("25%"));
        set_default(ru, "maxSurge", json!("25%"));
    }
    set_default(spec, "revisionHistoryLimit", json!(10));
    set_default(spec, "progressDeadlineSeconds", json!(600));
    pod_template(&mut spec["template"]);
}

fn pvc_spec(spec: &mut Value) {
    set_default(spec, "volumeMode", json!("Filesystem"));
}

fn statefulset(obj: &mut Value) {
    let spec = &mut obj["spec"];
    set_default(spec, "replicas", json!(1));
    set_default(spec, "podManagementPolicy", json!("OrderedReady"));
    set_default(spec, "updateStrategy", json!({}));
    set_default(&mut spec["updateStrategy"], "type", json!("RollingUpdate"));
    if str_of(&spec["updateStrategy"], "type") == "RollingUpdate" {
        let ru = &mut spec["updateStrategy"]["rollingUpdate"];
        set_default(ru, "partition", json!(0));
        // MaxUnavailableStatefulSet (beta, on by default since v1.35).
        set_default(ru, "maxUnavailable", json!(1));
    }
    set_default(spec, "revisionHistoryLimit", json!(10));
    set_default(
        spec,
        "persistentVolumeClaimRetentionPolicy",
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
    );
    if let Some(claims) = spec
        .get_mut("volumeClaimTemplates")
        .and_then(Value::as_array_mut)
    {
        for c in claims {
            pvc_spec(&mut c["spec"]);
        }
    }
    pod_template(&mut spec["template"]);
}

fn daemonset(obj: &mut Value) {
    let spec = &mut obj["spec"];
    set_default(spec, "updateStrategy", json!({}));
    set_default(&mut spec["updateStrategy"], "type", json!("RollingUpdate"));
    if str_of(&spec["updateStrategy"], "type") == "RollingUpdate" {
        let ru = &mut spec["updateStrategy"]["rollingUpdate"];
        set_default(ru, "maxUnavailable", json!(1));
        set_default(ru, "maxSurge", json!(0));
    }
    set_default(spec, "revisionHistoryLimit", json!(10));
    pod_template(&mut spec["template"]);
}

fn job(obj: &mut Value) {
    let uid = obj["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let spec = &mut obj["spec"];
    set_default(spec, "template", json!({}));
    if spec["completions"].is_null() && spec["parallelism"].is_null() {
        spec["completions"] = json!(1);
        spec["parallelism"] = json!(1);
    }
    set_default(spec, "parallelism", json!(1));
    if spec["backoffLimitPerIndex"].is_null() {
        set_default(spec, "backoffLimit", json!(6));
    }
    set_default(spec, "completionMode", json!("NonIndexed"));
    set_default(spec, "suspend", json!(false));
    let replacement = if spec["podFailurePolicy"].is_object() {
        "Failed"
    } else {
        "TerminatingOrFailed"
    };
    set_default(spec, "podReplacementPolicy", json!(replacement));
    set_default(spec, "manualSelector", json!(false));
    // The job strategy's generated selector, tying pods to this job's uid.
    if spec["manualSelector"].as_bool() != Some(true)
        && spec["selector"].is_null()
        && !uid.is_empty()
    {
        spec["selector"] = json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}});
        let labels = &mut spec["template"]["metadata"]["labels"];
        for (k, v) in [
            ("batch.kubernetes.io/controller-uid", &uid),
            ("batch.kubernetes.io/job-name", &name),
            ("controller-uid", &uid),
            ("job-name", &name),
        ] {
            set_default(labels, k, json!(v));
        }
    }
    pod_template(&mut spec["template"]);
    // A Job without labels of its own takes its template's (the generated
    // ones included, as defaulting runs again when the Job is read back).
    let template_labels = obj["spec"]["template"]["metadata"]["labels"].clone();
    let has_labels = obj["metadata"]["labels"]
        .as_object()
        .is_some_and(|l| !l.is_empty());
    if !has_labels && template_labels.as_object().is_some_and(|l| !l.is_empty()) {
        obj["metadata"]["labels"] = template_labels;
    }
}

fn cronjob(obj: &mut Value) {
    let spec = &mut obj["spec"];
    set_default(spec, "concurrencyPolicy", json!("Allow"));
    set_default(spec, "suspend", json!(false));
    set_default(spec, "successfulJobsHistoryLimit", json!(3));
    set_default(spec, "failedJobsHistoryLimit", json!(1));
    set_default(spec, "jobTemplate", json!({}));
    set_default(&mut spec["jobTemplate"], "metadata", json!({}));
    set_default(&mut spec["jobTemplate"], "spec", json!({}));
    pod_template(&mut spec["jobTemplate"]["spec"]["template"]);
    // The status is a struct, not a pointer: `{}` before the first run.
    set_default(obj, "status", json!({}));
}

/// A stable address in 10.96.0.0/12 for a service, avoiding the first few
/// (the `kubernetes` service and cluster DNS live there).
pub(crate) fn service_cluster_ip(ns: &str, name: &str) -> String {
    let offset = 16 + fnv64(format!("{ns}/{name}").bytes()) % ((1 << 20) - 32);
    let ip = (10u32 << 24) | (96 << 16) | offset as u32;
    format!(
        "{}.{}.{}.{}",
        ip >> 24,
        (ip >> 16) & 255,
        (ip >> 8) & 255,
        ip & 255
    )
}

fn service(obj: &mut Value) {
    let ns = obj["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let spec = &mut obj["spec"];
    set_default(spec, "type", json!("ClusterIP"));
    let ty = str_of(spec, "type").to_string();
    set_default(spec, "sessionAffinity", json!("None"));
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for (i, p) in ports.iter_mut().enumerate() {
            if !p.is_object() {
                continue;
            }
            set_default(p, "protocol", json!("TCP"));
            let port = p["port"].clone();
            set_default(p, "targetPort", port);
            if matches!(ty.as_str(), "NodePort" | "LoadBalancer") {
                let hash = fnv64(format!("{ns}/{name}/{i}").bytes()) % 2768;
                set_default(p, "nodePort", json!(30000 + hash));
            }
        }
    }
    if ty == "ExternalName" {
        return;
    }
    if spec["clusterIP"].is_null() || str_of(spec, "clusterIP").is_empty() {
        let ip = match spec["clusterIPs"].as_array().and_then(|a| a.first()) {
            Some(Value::String(ip)) if !ip.is_empty() => ip.clone(),
            _ => service_cluster_ip(&ns, &name),
        };
        spec["clusterIP"] = json!(ip);
    }
    let ip = str_of(spec, "clusterIP").to_string();
    set_default(spec, "clusterIPs", json!([ip]));
    set_default(spec, "ipFamilies", json!(["IPv4"]));
    set_default(spec, "ipFamilyPolicy", json!("SingleStack"));
    set_default(spec, "internalTrafficPolicy", json!("Cluster"));
    if matches!(ty.as_str(), "NodePort" | "LoadBalancer") {
        set_default(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if ty == "LoadBalancer" {
        set_default(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    set_default(&mut obj["status"], "loadBalancer", json!({}));
}

fn namespace(obj: &mut Value) {
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    set_default(&mut obj["metadata"], "labels", json!({}));
    obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
    set_default(&mut obj["spec"], "finalizers", json!(["kubernetes"]));
    set_default(&mut obj["status"], "phase", json!("Active"));
}

fn hpa(obj: &mut Value) {
    let spec = &mut obj["spec"];
    set_default(spec, "minReplicas", json!(1));
    if spec["metrics"].as_array().is_none_or(Vec::is_empty) {
        spec["metrics"] = json!([{"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": 80}}}]);
    }
}

/// Claims bind at once: the simulator has no provisioner delay.
fn pvc(obj: &mut Value) {
    let uid = obj["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let spec = &mut obj["spec"];
    if !spec.is_object() {
        *spec = json!({});
    }
    pvc_spec(spec);
    if str_of(spec, "volumeName").is_empty() && !uid.is_empty() {
        spec["volumeName"] = json!(format!("pvc-{uid}"));
    }
    let modes = spec["accessModes"].clone();
    let request = spec["resources"]["requests"]["storage"].clone();
    let bound = !str_of(spec, "volumeName").is_empty();
    let status = &mut obj["status"];
    if bound && str_of(status, "phase").is_empty() {
        status["phase"] = json!("Bound");
        if !modes.is_null() {
            status["accessModes"] = modes;
        }
        if !request.is_null() {
            status["capacity"] = json!({"storage": request});
        }
    } else {
        set_default(status, "phase", json!("Pending"));
    }
}

/// Volumes are available at once, or bound when created with a claim.
fn pv(obj: &mut Value) {
    let spec = &mut obj["spec"];
    set_default(spec, "persistentVolumeReclaimPolicy", json!("Retain"));
    set_default(spec, "volumeMode", json!("Filesystem"));
    let phase = if spec["claimRef"].is_object() {
        "Bound"
    } else {
        "Available"
    };
    set_default(&mut obj["status"], "phase", json!(phase));
}

/// `stringData` is write-only: conversion folds it into `data`.
fn secret(obj: &mut Value) {
    set_default(obj, "type", json!("Opaque"));
    let Some(Value::Object(string_data)) = obj.as_object_mut().and_then(|m| m.remove("stringData"))
    else {
        return;
    };
    if !obj["data"].is_object() {
        obj["data"] = Value::Object(Map::new());
    }
    for (k, v) in string_data {
        let text = match v {
            Value::String(s) => s,
            other => other.to_string(),
        };
        obj["data"][k] = json!(base64::engine::general_purpose::STANDARD.encode(text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaulted(res: &'static ResourceDef, mut obj: Value) -> Value {
        apply(res, &mut obj);
        let mut again = obj.clone();
        apply(res, &mut again);
        assert_eq!(again, obj, "defaulting must be idempotent");
        obj
    }

    #[test]
    fn pods_get_spec_container_and_status_defaults() {
        let pod = defaulted(
            &resources::PODS,
            json!({"metadata": {"name": "p", "namespace": "d"}, "spec": {"containers": [
                {"name": "a", "image": "nginx", "ports": [{"containerPort": 80}]},
                {"name": "b", "image": "registry:5000/app:1.2", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}},
                {"name": "c", "image": "busybox:latest", "readinessProbe": {"httpGet": {"port": 80}}}
            ]}}),
        );
        let spec = &pod["spec"];
        assert_eq!(spec["restartPolicy"], "Always");
        assert_eq!(spec["terminationGracePeriodSeconds"], 30);
        assert_eq!(spec["dnsPolicy"], "ClusterFirst");
        assert_eq!(spec["schedulerName"], "default-scheduler");
        assert_eq!(spec["serviceAccountName"], "default");
        assert_eq!(spec["enableServiceLinks"], true);
        assert_eq!(spec["containers"][0]["imagePullPolicy"], "Always");
        assert_eq!(spec["containers"][1]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(spec["containers"][2]["imagePullPolicy"], "Always");
        assert_eq!(spec["containers"][0]["ports"][0]["protocol"], "TCP");
        assert_eq!(
            spec["containers"][0]["terminationMessagePath"],
            "/dev/termination-log"
        );
        assert_eq!(spec["containers"][2]["readinessProbe"]["periodSeconds"], 10);
        assert_eq!(
            spec["containers"][2]["readinessProbe"]["httpGet"]["scheme"],
            "HTTP"
        );
        assert!(spec["containers"][0].get("livenessProbe").is_none());
        assert_eq!(spec["tolerations"].as_array().unwrap().len(), 2);
        assert_eq!(pod["status"]["phase"], "Pending");
        assert_eq!(pod["status"]["qosClass"], "Burstable");
    }

    fn nulls(v: &Value, path: &str, out: &mut Vec<String>) {
        match v {
            Value::Null => out.push(path.to_string()),
            Value::Object(m) => m
                .iter()
                .for_each(|(k, v)| nulls(v, &format!("{path}.{k}"), out)),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, v)| nulls(v, &format!("{path}[{i}]"), out)),
            _ => {}
        }
    }

    #[test]
    fn defaulting_never_adds_null_fields() {
        let tmpl = json!({"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "a", "image": "x"}]}});
        let cases = [
            (
                &resources::PODS,
                json!({"metadata": {"name": "p"}, "spec": tmpl["spec"]}),
            ),
            (
                &resources::DEPLOYMENTS,
                json!({"metadata": {"name": "d"}, "spec": {"template": tmpl}}),
            ),
            (
                &resources::STATEFULSETS,
                json!({"metadata": {"name": "s"}, "spec": {"template": tmpl}}),
            ),
            (
                &resources::DAEMONSETS,
                json!({"metadata": {"name": "s"}, "spec": {"template": tmpl}}),
            ),
            (
                &resources::JOBS,
                json!({"metadata": {"name": "j", "uid": "u"}, "spec": {"template": tmpl}}),
            ),
            (
                &resources::CRONJOBS,
                json!({"metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": tmpl}}}}),
            ),
            (
                &resources::SERVICES,
                json!({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}),
            ),
            (
                &resources::PVCS,
                json!({"metadata": {"name": "c", "uid": "u"}, "spec": {}}),
            ),
            (&resources::SECRETS, json!({"metadata": {"name": "s"}})),
            (&resources::NAMESPACES, json!({"metadata": {"name": "n"}})),
            (
                &resources::PVS,
                json!({"metadata": {"name": "pv"}, "spec": {"capacity": {"storage": "1Gi"}}}),
            ),
            (
                &resources::STORAGE_CLASSES,
                json!({"metadata": {"name": "sc"}, "provisioner": "p"}),
            ),
        ];
        for (res, obj) in cases {
            let out = defaulted(res, obj);
            let mut found = Vec::new();
            nulls(&out, "", &mut found);
            assert!(found.is_empty(), "{}: null at {found:?}", res.kind);
        }
    }

    #[test]
    fn qos_classes() {
        let c = |res: Value| json!({"containers": [{"name": "a", "resources": res}]});
        assert_eq!(qos_class(&c(json!({}))), "BestEffort");
        assert_eq!(
            qos_class(&c(json!({"limits": {"cpu": "1", "memory": "1Gi"}}))),
            "Guaranteed"
        );
        assert_eq!(
            qos_class(&c(json!({"requests": {"cpu": "100m"}}))),
            "Burstable"
        );
    }

    #[test]
    fn workloads_get_their_controller_defaults() {
        let d = defaulted(
            &resources::DEPLOYMENTS,
            json!({"metadata": {"name": "w"}, "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x:1"}]}}}}),
        );
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(
            d["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );
        assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
        assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
        assert_eq!(d["spec"]["template"]["spec"]["restartPolicy"], "Always");
        assert!(d["spec"]["template"]["spec"]["serviceAccountName"].is_null());
        let s = defaulted(
            &resources::STATEFULSETS,
            json!({"metadata": {"name": "s"}, "spec": {}}),
        );
        assert_eq!(s["spec"]["podManagementPolicy"], "OrderedReady");
        assert_eq!(s["spec"]["updateStrategy"]["rollingUpdate"]["partition"], 0);
        let j = defaulted(
            &resources::JOBS,
            json!({"metadata": {"name": "j", "uid": "u1"}, "spec": {"template": {"spec": {"restartPolicy": "Never"}}}}),
        );
        assert_eq!(j["spec"]["completions"], 1);
        assert_eq!(j["spec"]["parallelism"], 1);
        assert_eq!(j["spec"]["backoffLimit"], 6);
        assert_eq!(j["spec"]["completionMode"], "NonIndexed");
        assert_eq!(
            j["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"],
            "u1"
        );
        assert_eq!(j["spec"]["template"]["metadata"]["labels"]["job-name"], "j");
        let cj = defaulted(
            &resources::CRONJOBS,
            json!({"metadata": {"name": "c"}, "spec": {"schedule": "* * * * *"}}),
        );
        assert_eq!(cj["spec"]["concurrencyPolicy"], "Allow");
        assert_eq!(cj["spec"]["successfulJobsHistoryLimit"], 3);
        assert_eq!(cj["spec"]["failedJobsHistoryLimit"], 1);
    }

    #[test]
    fn services_get_a_stable_cluster_ip_and_port_defaults() {
        let svc = defaulted(
            &resources::SERVICES,
            json!({"metadata": {"name": "web", "namespace": "demo"}, "spec": {"ports": [{"port": 80}]}}),
        );
        let ip = svc["spec"]["clusterIP"].as_str().unwrap().to_string();
        assert!(ip.starts_with("10.9") || ip.starts_with("10.1"), "{ip}");
        assert_eq!(ip, service_cluster_ip("demo", "web"));
        assert_ne!(ip, service_cluster_ip("demo", "db"));
        assert_eq!(svc["spec"]["clusterIPs"], json!([ip]));
        assert_eq!(svc["spec"]["ports"][0]["targetPort"], 80);
        assert_eq!(svc["spec"]["ports"][0]["protocol"], "TCP");
        assert_eq!(svc["spec"]["type"], "ClusterIP");
        assert_eq!(svc["spec"]["sessionAffinity"], "None");
        let fixed = defaulted(
            &resources::SERVICES,
            json!({"metadata": {"name": "kubernetes", "namespace": "default"}, "spec": {"clusterIP": "10.96.0.1", "ports": [{"port": 443, "targetPort": 6443}]}}),
        );
        assert_eq!(fixed["spec"]["clusterIP"], "10.96.0.1");
        assert_eq!(fixed["spec"]["ports"][0]["targetPort"], 6443);
        let np = defaulted(
            &resources::SERVICES,
            json!({"metadata": {"name": "np", "namespace": "d"}, "spec": {"type": "NodePort", "ports": [{"port": 80}]}}),
        );
        let node_port = np["spec"]["ports"][0]["nodePort"].as_i64().unwrap();
        assert!((30000..=32767).contains(&node_port));
    }

    #[test]
    fn namespaces_secrets_claims_and_hpas() {
        let ns = defaulted(
            &resources::NAMESPACES,
            json!({"metadata": {"name": "demo"}}),
        );
        assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
        assert_eq!(ns["status"]["phase"], "Active");
        assert_eq!(
            ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "demo"
        );
        let s = defaulted(
            &resources::SECRETS,
            json!({"metadata": {"name": "s"}, "data": {"a": "eA=="}, "stringData": {"b": "hello"}}),
        );
        assert_eq!(s["type"], "Opaque");
        assert_eq!(s["data"], json!({"a": "eA==", "b": "aGVsbG8="}));
        assert!(s.get("stringData").is_none());
        let pvc = defaulted(
            &resources::PVCS,
            json!({"metadata": {"name": "data", "uid": "u9"}, "spec": {"accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}}}}),
        );
        assert_eq!(pvc["spec"]["volumeName"], "pvc-u9");
        assert_eq!(pvc["status"]["phase"], "Bound");
        assert_eq!(pvc["status"]["capacity"]["storage"], "1Gi");
        let hpa = defaulted(
            &resources::HPAS,
            json!({"metadata": {"name": "h"}, "spec": {"maxReplicas": 3}}),
        );
        assert_eq!(hpa["spec"]["minReplicas"], 1);
    }
}
