//! Validation, as the API server applies it: a 422 naming each bad field,
//! with the messages of k8s.io/apimachinery's validation helpers.

use std::collections::HashSet;

use base64::Engine as _;
use serde_json::Value;

use kubedeck_kube::cron::Schedule;
use kubedeck_kube::names::{
    TOTAL_ANNOTATION_SIZE, config_key_errors, dns1035_label_errors, dns1123_label_errors,
    dns1123_subdomain_errors, label_value_errors, qualified_name_errors,
};
use kubedeck_kube::selector::LabelSelector;

use super::error::{ApiError, ApiResult};
use super::resources::{self, ResourceDef};

/// Collects field errors in kube's `<path>: <type>: <detail>` format.
#[derive(Default)]
struct Errs(Vec<(String, String)>);

impl Errs {
    /// `value` is already formatted the way Go's field errors print it.
    fn invalid(&mut self, path: &str, value: impl std::fmt::Display, detail: &str) {
        self.0.push((
            path.to_string(),
            format!("Invalid value: {value}: {detail}"),
        ));
    }

    fn invalid_str(&mut self, path: &str, value: &str, detail: &str) {
        self.invalid(path, format!("{value:?}"), detail);
    }

    fn required(&mut self, path: &str, detail: &str) {
        let msg = if detail.is_empty() {
            "Required value".to_string()
        } else {
            format!("Required value: {detail}")
        };
        self.0.push((path.to_string(), msg));
    }

    fn duplicate(&mut self, path: &str, value: impl std::fmt::Display) {
        self.0
            .push((path.to_string(), format!("Duplicate value: {value}")));
    }

    fn forbidden(&mut self, path: &str, detail: &str) {
        self.0
            .push((path.to_string(), format!("Forbidden: {detail}")));
    }

    fn not_supported(&mut self, path: &str, value: &str, supported: &[&str]) {
        let list: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
        self.0.push((
            path.to_string(),
            format!(
                "Unsupported value: {value:?}: supported values: {}",
                list.join(", ")
            ),
        ));
    }

    fn non_negative(&mut self, path: &str, v: &Value) {
        if let Some(n) = v.as_i64()
            && n < 0
        {
            self.invalid(path, n, "must be greater than or equal to 0");
        }
    }
}

/// Go's `%#v` of a `map[string]string`, as kube prints label maps.
fn go_map(v: &Value) -> String {
    let Some(m) = v.as_object() else {
        return "map[string]string(nil)".into();
    };
    let mut pairs: Vec<(&String, &Value)> = m.iter().collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k:?}:{:?}", v.as_str().unwrap_or_default()))
        .collect();
    format!("map[string]string{{{}}}", body.join(", "))
}

fn go_label_selector(v: &Value) -> String {
    let exprs = match v["matchExpressions"].as_array() {
        Some(a) if !a.is_empty() => format!("[]v1.LabelSelectorRequirement{{{}}}", a.len()),
        _ => "[]v1.LabelSelectorRequirement(nil)".into(),
    };
    let labels = if v["matchLabels"].is_object() {
        go_map(&v["matchLabels"])
    } else {
        "map[string]string(nil)".into()
    };
    format!("v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:{exprs}}}")
}

fn is(res: &ResourceDef, other: &ResourceDef) -> bool {
    std::ptr::eq(res, other)
}

/// Checks an object about to be stored; `old` is the stored version on update.
pub(crate) fn validate(
    res: &'static ResourceDef,
    obj: &Value,
    old: Option<&Value>,
) -> ApiResult<()> {
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    check_string_maps(res, obj)?;
    let mut e = Errs::default();
    validate_meta(res, obj, &mut e);
    let spec = &obj["spec"];
    let old_spec = old.map(|o| &o["spec"]);
    if is(res, &resources::CRDS) {
        crate::crd::validate(obj, old)?;
    } else if is(res, &resources::PODS) {
        validate_pod_spec(spec, "spec", &mut e);
        if let Some(old_spec) = old_spec {
            validate_pod_update(spec, old_spec, &mut e);
        }
    } else if is(res, &resources::DEPLOYMENTS)
        || is(res, &resources::REPLICASETS)
        || is(res, &resources::STATEFULSETS)
        || is(res, &resources::DAEMONSETS)
    {
        validate_workload(res, spec, old_spec, &mut e);
    } else if is(res, &resources::JOBS) {
        validate_job_spec(spec, "spec", &mut e);
        if let Some(old_spec) = old_spec
            && old_spec["selector"] != spec["selector"]
        {
            e.invalid(
                "spec.selector",
                go_label_selector(&spec["selector"]),
                "field is immutable",
            );
        }
    } else if is(res, &resources::CRONJOBS) {
        validate_cronjob(spec, old.is_none(), &mut e);
    } else if is(res, &resources::SERVICES) {
        validate_service(spec, old_spec, &mut e);
    } else if is(res, &resources::HPAS) {
        validate_hpa(spec, &mut e);
    } else if is(res, &resources::PDBS) {
        validate_pdb(spec, &mut e);
    } else if is(res, &resources::CONFIGMAPS) || is(res, &resources::SECRETS) {
        validate_data(res, obj, old, &mut e)?;
    }
    if e.0.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(res, name, &e.0))
    }
}

/// String maps holding numbers or booleans (`version: 1.0` in YAML) fail
/// to decode on a real server: a 400 before validation runs.
fn check_string_maps(res: &'static ResourceDef, obj: &Value) -> ApiResult<()> {
    let maps = [
        (&obj["metadata"]["labels"], "ObjectMeta.metadata.labels"),
        (
            &obj["metadata"]["annotations"],
            "ObjectMeta.metadata.annotations",
        ),
        (
            &obj["spec"]["selector"]["matchLabels"],
            "LabelSelector.spec.selector.matchLabels",
        ),
        (
            &obj["spec"]["template"]["metadata"]["labels"],
            "ObjectMeta.spec.template.metadata.labels",
        ),
        (
            &obj["spec"]["template"]["metadata"]["annotations"],
            "ObjectMeta.spec.template.metadata.annotations",
        ),
    ];
    let data = if is(res, &resources::CONFIGMAPS) || is(res, &resources::SECRETS) {
        Some((&obj["data"], "data"))
    } else {
        None
    };
    let maps = maps.into_iter().chain(data);
    for (map, field) in maps {
        let Some(m) = map.as_object() else {
            continue;
        };
        let field = if field == "data" {
            format!("{}.data", res.kind)
        } else {
            field.to_string()
        };
        if let Some(bad) = m.values().find(|v| !v.is_string() && !v.is_null()) {
            let ty = match bad {
                Value::Bool(_) => "bool",
                Value::Number(_) => "number",
                Value::Array(_) => "array",
                _ => "object",
            };
            return Err(ApiError::bad_request(format!(
                "{kind} in version \"{version}\" cannot be handled as a {kind}: json: cannot unmarshal {ty} into Go struct field {field} of type string",
                kind = res.kind,
                version = res.version,
            )));
        }
    }
    Ok(())
}

fn validate_meta(res: &'static ResourceDef, obj: &Value, e: &mut Errs) {
    let meta = &obj["metadata"];
    let name = meta["name"].as_str().unwrap_or_default();
    if name.is_empty() {
        e.required("metadata.name", "name or generateName is required");
    } else {
        let errs = if is(res, &resources::NAMESPACES) {
            dns1123_label_errors(name)
        } else if is(res, &resources::SERVICES) {
            dns1035_label_errors(name)
        } else if res.group == "rbac.authorization.k8s.io" {
            path_segment_errors(name)
        } else {
            dns1123_subdomain_errors(name)
        };
        for msg in errs {
            e.invalid_str("metadata.name", name, &msg);
        }
    }
    if res.namespaced {
        let ns = meta["namespace"].as_str().unwrap_or_default();
        for msg in dns1123_label_errors(ns) {
            e.invalid_str("metadata.namespace", ns, &msg);
        }
    }
    validate_labels(&meta["labels"], "metadata.labels", e);
    if let Some(ann) = meta["annotations"].as_object() {
        let mut total = 0;
        for (k, v) in ann {
            for msg in qualified_name_errors(&k.to_lowercase()) {
                e.invalid_str("metadata.annotations", k, &msg);
            }
            total += k.len() + v.as_str().map_or(0, str::len);
        }
        if total > TOTAL_ANNOTATION_SIZE {
            e.0.push((
                "metadata.annotations".into(),
                format!("Too long: must have at most {TOTAL_ANNOTATION_SIZE} bytes"),
            ));
        }
    }
}

fn path_segment_errors(name: &str) -> Vec<String> {
    if name == "." || name == ".." {
        return vec![format!("may not be '{name}'")];
    }
    ["/", "%"]
        .iter()
        .filter(|c| name.contains(*c))
        .map(|c| format!("may not contain '{c}'"))
        .collect()
}

fn validate_labels(labels: &Value, path: &str, e: &mut Errs) {
    let Some(m) = labels.as_object() else {
        return;
    };
    for (k, v) in m {
        for msg in qualified_name_errors(k) {
            e.invalid_str(path, k, &msg);
        }
        let v = v.as_str().unwrap_or_default();
        for msg in label_value_errors(v) {
            e.invalid_str(path, v, &msg);
        }
    }
}

fn validate_containers(list: &Value, path: &str, required: bool, e: &mut Errs) {
    let containers = list.as_array().map(Vec::as_slice).unwrap_or_default();
    if containers.is_empty() {
        if required {
            e.required(path, "");
        }
        return;
    }
    let mut seen = HashSet::new();
    for (i, c) in containers.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let name = c["name"].as_str().unwrap_or_default();
        if name.is_empty() {
            e.required(&format!("{p}.name"), "");
        } else {
            for msg in dns1123_label_errors(name) {
                e.invalid_str(&format!("{p}.name"), name, &msg);
            }
            if !seen.insert(name.to_string()) {
                e.duplicate(&format!("{p}.name"), format!("{name:?}"));
            }
        }
        if c["image"].as_str().unwrap_or_default().trim().is_empty() {
            e.required(&format!("{p}.image"), "");
        }
        if let Some(ports) = c["ports"].as_array() {
            for (j, port) in ports.iter().enumerate() {
                let n = port["containerPort"].as_i64().unwrap_or(0);
                if !(1..=65535).contains(&n) {
                    e.invalid(
                        &format!("{p}.ports[{j}].containerPort"),
                        n,
                        "must be between 1 and 65535, inclusive",
                    );
                }
            }
        }
        if let Some(policy) = c["imagePullPolicy"].as_str()
            && !["Always", "IfNotPresent", "Never"].contains(&policy)
        {
            e.not_supported(
                &format!("{p}.imagePullPolicy"),
                policy,
                &["Always", "IfNotPresent", "Never"],
            );
        }
    }
}

fn validate_pod_spec(spec: &Value, path: &str, e: &mut Errs) {
    validate_containers(&spec["containers"], &format!("{path}.containers"), true, e);
    validate_containers(
        &spec["initContainers"],
        &format!("{path}.initContainers"),
        false,
        e,
    );
    if let Some(policy) = spec["restartPolicy"].as_str()
        && !["Always", "OnFailure", "Never"].contains(&policy)
    {
        e.not_supported(
            &format!("{path}.restartPolicy"),
            policy,
            &["Always", "OnFailure", "Never"],
        );
    }
    e.non_negative(
        &format!("{path}.terminationGracePeriodSeconds"),
        &spec["terminationGracePeriodSeconds"],
    );
    if let Some(vols) = spec["volumes"].as_array() {
        let mut seen = HashSet::new();
        for (i, v) in vols.iter().enumerate() {
            let name = v["name"].as_str().unwrap_or_default();
            if name.is_empty() {
                e.required(&format!("{path}.volumes[{i}].name"), "");
            } else if !seen.insert(name) {
                e.duplicate(&format!("{path}.volumes[{i}].name"), format!("{name:?}"));
            }
        }
    }
}

/// Pod specs are immutable apart from images, a few scalars, added
/// tolerations and the binding to a node (which the scheduler writes).
fn validate_pod_update(spec: &Value, old: &Value, e: &mut Errs) {
    let strip = |s: &Value, base: &Value| {
        let mut s = s.clone();
        for list in ["containers", "initContainers"] {
            if let Some(a) = s.get_mut(list).and_then(Value::as_array_mut) {
                for (i, c) in a.iter_mut().enumerate() {
                    c["image"] = base[list][i]["image"].clone();
                }
            }
        }
        for f in [
            "activeDeadlineSeconds",
            "tolerations",
            "terminationGracePeriodSeconds",
            "schedulingGates",
        ] {
            if let Some(m) = s.as_object_mut() {
                m.remove(f);
            }
        }
        s
    };
    let mut new_cmp = strip(spec, old);
    let old_cmp = strip(old, old);
    if old_cmp["nodeName"].as_str().unwrap_or_default().is_empty() {
        new_cmp["nodeName"] = old_cmp["nodeName"].clone();
    }
    if new_cmp["nodeName"].is_null()
        && let Some(m) = new_cmp.as_object_mut()
    {
        m.remove("nodeName");
    }
    if new_cmp != old_cmp {
        e.forbidden(
            "spec",
            "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
        );
    }
}

fn validate_template(
    tmpl: &Value,
    selector: Option<&LabelSelector>,
    allowed_restart: &[&str],
    path: &str,
    e: &mut Errs,
) {
    validate_labels(
        &tmpl["metadata"]["labels"],
        &format!("{path}.metadata.labels"),
        e,
    );
    if let Some(sel) = selector
        && !sel.is_empty()
        && !sel.matches(&tmpl["metadata"]["labels"])
    {
        e.invalid(
            &format!("{path}.metadata.labels"),
            go_map(&tmpl["metadata"]["labels"]),
            "`selector` does not match template `labels`",
        );
    }
    let spec_path = format!("{path}.spec");
    validate_pod_spec(&tmpl["spec"], &spec_path, e);
    let policy = tmpl["spec"]["restartPolicy"].as_str().unwrap_or_default();
    if !allowed_restart.contains(&policy) {
        e.not_supported(
            &format!("{spec_path}.restartPolicy"),
            policy,
            allowed_restart,
        );
    }
}

fn validate_workload(
    res: &'static ResourceDef,
    spec: &Value,
    old_spec: Option<&Value>,
    e: &mut Errs,
) {
    e.non_negative("spec.replicas", &spec["replicas"]);
    e.non_negative("spec.minReadySeconds", &spec["minReadySeconds"]);
    e.non_negative("spec.revisionHistoryLimit", &spec["revisionHistoryLimit"]);
    let sel_val = &spec["selector"];
    let mut selector = None;
    if sel_val.is_null() {
        e.required("spec.selector", "");
    } else {
        match LabelSelector::from_object(sel_val) {
            Ok(s) => {
                if s.is_empty() {
                    e.invalid(
                        "spec.selector",
                        go_label_selector(sel_val),
                        &format!("empty selector is invalid for {}", res.singular),
                    );
                }
                selector = Some(s);
            }
            Err(msg) => e.invalid("spec.selector", go_label_selector(sel_val), &msg),
        }
    }
    validate_template(
        &spec["template"],
        selector.as_ref(),
        &["Always"],
        "spec.template",
        e,
    );
    if let Some(old) = old_spec
        && old["selector"] != spec["selector"]
    {
        e.invalid(
            "spec.selector",
            go_label_selector(sel_val),
            "field is immutable",
        );
    }
    if is(res, &resources::DEPLOYMENTS) {
        let strategy = spec["strategy"]["type"].as_str().unwrap_or("RollingUpdate");
        if !["RollingUpdate", "Recreate"].contains(&strategy) {
            e.not_supported(
                "spec.strategy.type",
                strategy,
                &["Recreate", "RollingUpdate"],
            );
        }
        e.non_negative(
            "spec.progressDeadlineSeconds",
            &spec["progressDeadlineSeconds"],
        );
    }
    if is(res, &resources::STATEFULSETS)
        && let Some(p) = spec["podManagementPolicy"].as_str()
        && !["OrderedReady", "Parallel"].contains(&p)
    {
        e.not_supported("spec.podManagementPolicy", p, &["OrderedReady", "Parallel"]);
    }
}

fn validate_job_spec(spec: &Value, path: &str, e: &mut Errs) {
    for f in [
        "parallelism",
        "completions",
        "backoffLimit",
        "activeDeadlineSeconds",
    ] {
        e.non_negative(&format!("{path}.{f}"), &spec[f]);
    }
    let selector = LabelSelector::from_object(&spec["selector"]).ok();
    let selector = selector.filter(|_| !spec["selector"].is_null());
    validate_template(
        &spec["template"],
        selector.as_ref(),
        &["OnFailure", "Never"],
        &format!("{path}.template"),
        e,
    );
}

fn validate_cronjob(spec: &Value, creating: bool, e: &mut Errs) {
    let schedule = spec["schedule"].as_str().unwrap_or_default();
    if schedule.is_empty() {
        e.required("spec.schedule", "");
    } else {
        let trimmed = schedule.trim_start();
        // Since 1.27 new objects must use spec.timeZone instead.
        if creating && (trimmed.starts_with("TZ=") || trimmed.starts_with("CRON_TZ=")) {
            e.invalid_str(
                "spec.schedule",
                schedule,
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
            );
        } else if let Err(msg) = Schedule::parse(schedule, None) {
            e.invalid_str("spec.schedule", schedule, &msg);
        }
    }
    if let Some(tz) = spec.get("timeZone").and_then(Value::as_str) {
        if tz.is_empty() {
            e.invalid_str(
                "spec.timeZone",
                tz,
                "timeZone must be nil or non-empty string",
            );
        } else if tz.eq_ignore_ascii_case("local") {
            e.invalid_str(
                "spec.timeZone",
                tz,
                "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
            );
        } else if tz != "UTC" && tz.parse::<chrono_tz::Tz>().is_err() {
            e.invalid_str("spec.timeZone", tz, &format!("unknown time zone {tz}"));
        }
    }
    if let Some(p) = spec["concurrencyPolicy"].as_str()
        && !["Allow", "Forbid", "Replace"].contains(&p)
    {
        e.not_supported("spec.concurrencyPolicy", p, &["Allow", "Forbid", "Replace"]);
    }
    for f in [
        "successfulJobsHistoryLimit",
        "failedJobsHistoryLimit",
        "startingDeadlineSeconds",
    ] {
        e.non_negative(&format!("spec.{f}"), &spec[f]);
    }
    validate_job_spec(&spec["jobTemplate"]["spec"], "spec.jobTemplate.spec", e);
}

fn validate_service(spec: &Value, old_spec: Option<&Value>, e: &mut Errs) {
    let ty = spec["type"].as_str().unwrap_or("ClusterIP");
    const TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
    if !TYPES.contains(&ty) {
        e.not_supported("spec.type", ty, TYPES);
    }
    let ports = spec["ports"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let headless = spec["clusterIP"].as_str() == Some("None");
    if ty == "ExternalName" {
        if spec["externalName"].as_str().unwrap_or_default().is_empty() {
            e.required("spec.externalName", "");
        }
    } else if ports.is_empty() && !headless {
        e.required("spec.ports", "");
    }
    let mut names = HashSet::new();
    for (i, p) in ports.iter().enumerate() {
        let path = format!("spec.ports[{i}]");
        let name = p["name"].as_str().unwrap_or_default();
        if ports.len() > 1 && name.is_empty() {
            e.required(&format!("{path}.name"), "");
        } else if !name.is_empty() {
            for msg in dns1123_label_errors(name) {
                e.invalid_str(&format!("{path}.name"), name, &msg);
            }
            if !names.insert(name) {
                e.duplicate(&format!("{path}.name"), format!("{name:?}"));
            }
        }
        let port = p["port"].as_i64().unwrap_or(0);
        if !(1..=65535).contains(&port) {
            e.invalid(
                &format!("{path}.port"),
                port,
                "must be between 1 and 65535, inclusive",
            );
        }
        if let Some(proto) = p["protocol"].as_str()
            && !["TCP", "UDP", "SCTP"].contains(&proto)
        {
            e.not_supported(&format!("{path}.protocol"), proto, &["SCTP", "TCP", "UDP"]);
        }
        match &p["targetPort"] {
            Value::Number(n) => {
                let n = n.as_i64().unwrap_or(0);
                if !(1..=65535).contains(&n) {
                    e.invalid(
                        &format!("{path}.targetPort"),
                        n,
                        "must be between 1 and 65535, inclusive",
                    );
                }
            }
            Value::String(s) if s.is_empty() || s.len() > 15 => {
                e.invalid_str(
                    &format!("{path}.targetPort"),
                    s,
                    "must contain at least one letter (a-z) and be no more than 15 characters",
                );
            }
            _ => {}
        }
    }
    if let Some(old) = old_spec {
        let old_ip = old["clusterIP"].as_str().unwrap_or_default();
        let new_ip = spec["clusterIP"].as_str().unwrap_or_default();
        let old_ty = old["type"].as_str().unwrap_or("ClusterIP");
        if !old_ip.is_empty()
            && old_ip != new_ip
            && old_ty != "ExternalName"
            && ty != "ExternalName"
        {
            e.invalid_str("spec.clusterIPs[0]", new_ip, "may not change once set");
        }
    }
}

fn validate_hpa(spec: &Value, e: &mut Errs) {
    let target = &spec["scaleTargetRef"];
    if target["kind"].as_str().unwrap_or_default().is_empty() {
        e.required("spec.scaleTargetRef.kind", "");
    }
    if target["name"].as_str().unwrap_or_default().is_empty() {
        e.required("spec.scaleTargetRef.name", "");
    }
    let min = spec["minReplicas"].as_i64();
    let max = spec["maxReplicas"].as_i64().unwrap_or(0);
    if let Some(min) = min
        && min < 1
    {
        e.invalid(
            "spec.minReplicas",
            min,
            "must be greater than or equal to 1",
        );
    }
    if max < 1 {
        e.invalid("spec.maxReplicas", max, "must be greater than 0");
    }
    if let Some(min) = min
        && max < min
    {
        e.invalid(
            "spec.maxReplicas",
            max,
            "must be greater than or equal to `minReplicas`",
        );
    }
}

/// An IntOrString that must be a non-negative int or a percentage 0–100%.
fn validate_int_or_percent(v: &Value, path: &str, e: &mut Errs) {
    match v {
        Value::Number(n) => e.non_negative(path, &Value::Number(n.clone())),
        Value::String(s) => {
            let pct = s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok());
            match pct {
                None => e.invalid_str(path, s, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"),
                Some(p) if p > 100 => e.invalid_str(path, s, "must not be greater than 100%"),
                Some(p) if p < 0 => e.invalid_str(path, s, "must be greater than or equal to 0"),
                _ => {}
            }
        }
        _ => {}
    }
}

fn validate_pdb(spec: &Value, e: &mut Errs) {
    let min = &spec["minAvailable"];
    let max = &spec["maxUnavailable"];
    if !min.is_null() && !max.is_null() {
        e.invalid(
            "spec",
            "policy.PodDisruptionBudgetSpec{...}",
            "minAvailable and maxUnavailable cannot be both set",
        );
    }
    validate_int_or_percent(min, "spec.minAvailable", e);
    validate_int_or_percent(max, "spec.maxUnavailable", e);
    if !spec["selector"].is_null()
        && let Err(msg) = LabelSelector::from_object(&spec["selector"])
    {
        e.invalid("spec.selector", go_label_selector(&spec["selector"]), &msg);
    }
}

/// ConfigMap and Secret keys; Secret values must be base64, which a real
/// server rejects while decoding (400), before validation.
fn validate_data(
    res: &'static ResourceDef,
    obj: &Value,
    old: Option<&Value>,
    e: &mut Errs,
) -> ApiResult<()> {
    let mut seen = HashSet::new();
    for field in ["data", "binaryData"] {
        let Some(m) = obj[field].as_object() else {
            continue;
        };
        for (k, v) in m {
            for msg in config_key_errors(k) {
                e.invalid_str(&format!("{field}[{k}]"), k, &msg);
            }
            if !seen.insert(k.clone()) {
                e.invalid_str(
                    &format!("{field}[{k}]"),
                    k,
                    "duplicate of key present in data",
                );
            }
            let base64_field = is(res, &resources::SECRETS) || field == "binaryData";
            if base64_field
                && let Some(s) = v.as_str()
                && let Err(err) = base64::engine::general_purpose::STANDARD.decode(s)
            {
                return Err(ApiError::bad_request(format!(
                    "{} in version \"v1\" cannot be handled as a {}: illegal base64 data: {err}",
                    res.kind, res.kind
                )));
            }
        }
    }
    if let Some(old) = old {
        if old["immutable"].as_bool() == Some(true) {
            if obj["data"] != old["data"] || obj["binaryData"] != old["binaryData"] {
                e.forbidden("data", "field is immutable when `immutable` is set");
            }
            if obj["immutable"].as_bool() != Some(true) {
                e.forbidden("immutable", "field is immutable when `immutable` is set");
            }
        }
        if is(res, &resources::SECRETS) && obj["type"] != old["type"] {
            e.invalid_str(
                "type",
                obj["type"].as_str().unwrap_or_default(),
                "field is immutable",
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Value {
        json!({
            "metadata": {"name": "web", "namespace": "demo", "labels": {"app": "web"}},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"restartPolicy": "Always", "containers": [{"name": "web", "image": "nginx"}]}
                }
            }
        })
    }

    fn messages(err: ApiError) -> Vec<String> {
        err.details.unwrap()["causes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                format!(
                    "{}: {}",
                    c["field"].as_str().unwrap(),
                    c["message"].as_str().unwrap()
                )
            })
            .collect()
    }

    #[test]
    fn a_valid_deployment_passes() {
        validate(&resources::DEPLOYMENTS, &deployment(), None).unwrap();
    }

    #[test]
    fn bad_names_get_kubes_messages() {
        let mut d = deployment();
        d["metadata"]["name"] = json!("Bad_Name");
        let err = validate(&resources::DEPLOYMENTS, &d, None).unwrap_err();
        assert_eq!(err.code, 422);
        assert_eq!(
            messages(err),
            vec![
                r#"metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#
            ]
        );
        let ns = json!({"metadata": {"name": "a.b"}});
        let err = validate(&resources::NAMESPACES, &ns, None).unwrap_err();
        assert!(err.message.contains("RFC 1123 label"), "{}", err.message);
        let svc = json!({"metadata": {"name": "1abc", "namespace": "d"}, "spec": {"ports": [{"port": 80}]}});
        let err = validate(&resources::SERVICES, &svc, None).unwrap_err();
        assert!(err.message.contains("DNS-1035"), "{}", err.message);
    }

    #[test]
    fn negative_replicas_and_selector_mismatch() {
        let mut d = deployment();
        d["spec"]["replicas"] = json!(-1);
        d["spec"]["template"]["metadata"]["labels"] = json!({"app": "other"});
        let err = validate(&resources::DEPLOYMENTS, &d, None).unwrap_err();
        assert!(
            err.message
                .starts_with("Deployment.apps \"web\" is invalid: ")
        );
        assert_eq!(
            messages(err),
            vec![
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0".to_string(),
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`".to_string(),
            ]
        );
    }

    #[test]
    fn selector_is_required_and_immutable() {
        let mut d = deployment();
        d["spec"].as_object_mut().unwrap().remove("selector");
        let msgs = messages(validate(&resources::DEPLOYMENTS, &d, None).unwrap_err());
        assert_eq!(msgs, vec!["spec.selector: Required value"]);
        let old = deployment();
        let mut d = deployment();
        d["spec"]["selector"]["matchLabels"]["tier"] = json!("x");
        d["spec"]["template"]["metadata"]["labels"]["tier"] = json!("x");
        let msgs = messages(validate(&resources::DEPLOYMENTS, &d, Some(&old)).unwrap_err());
        assert_eq!(msgs.len(), 1);
        assert!(msgs[0].starts_with("spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web\", \"tier\":\"x\"}"));
        assert!(msgs[0].ends_with("field is immutable"));
    }

    #[test]
    fn containers_need_names_images_and_unique_names() {
        let pod = json!({
            "metadata": {"name": "p", "namespace": "d"},
            "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "a"}, {"image": "y"}]}
        });
        let msgs = messages(validate(&resources::PODS, &pod, None).unwrap_err());
        assert_eq!(
            msgs,
            vec![
                "spec.containers[1].name: Duplicate value: \"a\"",
                "spec.containers[1].image: Required value",
                "spec.containers[2].name: Required value",
            ]
        );
        let empty = json!({"metadata": {"name": "p", "namespace": "d"}, "spec": {}});
        assert_eq!(
            messages(validate(&resources::PODS, &empty, None).unwrap_err()),
            vec!["spec.containers: Required value"]
        );
    }

    #[test]
    fn pod_updates_allow_images_and_binding_only() {
        let old = json!({"containers": [{"name": "a", "image": "x"}]});
        let pod = |spec: Value| json!({"metadata": {"name": "p", "namespace": "d"}, "spec": spec});
        let old_pod = pod(old.clone());
        let new_image = pod(json!({"containers": [{"name": "a", "image": "y"}]}));
        validate(&resources::PODS, &new_image, Some(&old_pod)).unwrap();
        let bound = pod(json!({"containers": [{"name": "a", "image": "x"}], "nodeName": "n1"}));
        validate(&resources::PODS, &bound, Some(&old_pod)).unwrap();
        let changed = pod(json!({"containers": [{"name": "a", "image": "x", "args": ["-v"]}]}));
        let err = validate(&resources::PODS, &changed, Some(&old_pod)).unwrap_err();
        assert!(
            err.message
                .contains("spec: Forbidden: pod updates may not change fields")
        );
    }

    #[test]
    fn hpa_pdb_and_service_rules() {
        let hpa = json!({"metadata": {"name": "h", "namespace": "d"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 5, "maxReplicas": 2}});
        assert_eq!(
            messages(validate(&resources::HPAS, &hpa, None).unwrap_err()),
            vec![
                "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`"
            ]
        );
        let pdb = json!({"metadata": {"name": "p", "namespace": "d"},
            "spec": {"minAvailable": 1, "maxUnavailable": "150%"}});
        let msgs = messages(validate(&resources::PDBS, &pdb, None).unwrap_err());
        assert!(msgs[0].ends_with("minAvailable and maxUnavailable cannot be both set"));
        assert_eq!(
            msgs[1],
            "spec.maxUnavailable: Invalid value: \"150%\": must not be greater than 100%"
        );
        let svc = json!({"metadata": {"name": "s", "namespace": "d"},
            "spec": {"ports": [{"name": "a", "port": 0}, {"port": 80}]}});
        assert_eq!(
            messages(validate(&resources::SERVICES, &svc, None).unwrap_err()),
            vec![
                "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.ports[1].name: Required value",
            ]
        );
    }

    #[test]
    fn label_and_annotation_keys_are_checked() {
        let cm = json!({"metadata": {"name": "c", "namespace": "d",
            "labels": {"bad key": "ok", "good": "bad value"},
            "annotations": {"example.com/fine": "x", "a/b/c": "y"}}});
        let msgs = messages(validate(&resources::CONFIGMAPS, &cm, None).unwrap_err());
        assert_eq!(msgs.len(), 3, "{msgs:?}");
        assert!(msgs[0].starts_with("metadata.labels: Invalid value: \"bad key\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc'"));
        assert!(msgs[1].starts_with(
            "metadata.labels: Invalid value: \"bad value\": a valid label must be an empty string"
        ));
        assert!(msgs[2].starts_with(
            "metadata.annotations: Invalid value: \"a/b/c\": a qualified name must consist"
        ));
    }

    #[test]
    fn secrets_need_base64_and_job_templates_need_a_restart_policy() {
        let s = json!({"metadata": {"name": "s", "namespace": "d"}, "data": {"k": "not base64!"}});
        assert_eq!(
            validate(&resources::SECRETS, &s, None).unwrap_err().code,
            400
        );
        let job = json!({"metadata": {"name": "j", "namespace": "d"},
            "spec": {"template": {"spec": {"restartPolicy": "Always", "containers": [{"name": "c", "image": "i"}]}}}});
        assert_eq!(
            messages(validate(&resources::JOBS, &job, None).unwrap_err()),
            vec![
                "spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""
            ]
        );
    }

    #[test]
    fn non_string_label_values_are_a_decode_error() {
        let mut d = deployment();
        d["spec"]["template"]["metadata"]["labels"]["version"] = json!(1.0);
        let err = validate(&resources::DEPLOYMENTS, &d, None).unwrap_err();
        assert_eq!(err.code, 400);
        assert_eq!(
            err.message,
            "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal number into Go struct field ObjectMeta.spec.template.metadata.labels of type string"
        );
    }

    #[test]
    fn cronjob_schedules_and_time_zones() {
        let cj = |schedule: &str, tz: Value| {
            json!({"metadata": {"name": "c", "namespace": "d"}, "spec": {"schedule": schedule, "timeZone": tz,
                "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "i"}]}}}}}})
        };
        validate(
            &resources::CRONJOBS,
            &cj("*/5 * * * *", json!("Europe/Paris")),
            None,
        )
        .unwrap();
        validate(&resources::CRONJOBS, &cj("@hourly", Value::Null), None).unwrap();
        let msgs = messages(
            validate(&resources::CRONJOBS, &cj("every day", Value::Null), None).unwrap_err(),
        );
        assert!(
            msgs[0].starts_with("spec.schedule: Invalid value: \"every day\": "),
            "{msgs:?}"
        );
        let msgs = messages(
            validate(
                &resources::CRONJOBS,
                &cj("CRON_TZ=UTC 0 3 * * *", Value::Null),
                None,
            )
            .unwrap_err(),
        );
        assert!(
            msgs[0].ends_with("cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
        );
        let msgs = messages(
            validate(
                &resources::CRONJOBS,
                &cj("0 3 * * *", json!("Mars/Olympus_Mons")),
                None,
            )
            .unwrap_err(),
        );
        assert_eq!(
            msgs,
            vec![
                "spec.timeZone: Invalid value: \"Mars/Olympus_Mons\": unknown time zone Mars/Olympus_Mons"
            ]
        );
    }
}
