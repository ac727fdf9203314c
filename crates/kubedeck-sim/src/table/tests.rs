use chrono::TimeZone;

use super::*;
use crate::resources;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap()
}

fn one(res: &'static ResourceDef, obj: Value) -> Value {
    let t = table(
        res,
        &[crate::store::Stored::new(obj)],
        IncludeObject::Metadata,
        json!({"resourceVersion": "7"}),
        now(),
    );
    t["rows"][0]["cells"].clone()
}

fn columns(res: &'static ResourceDef) -> Vec<String> {
    let t = table(res, &[], IncludeObject::None, json!({}), now());
    t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}{}",
                c["name"].as_str().unwrap(),
                if c["priority"] == 1 { "*" } else { "" }
            )
        })
        .collect()
}

#[test]
fn pod_columns_and_a_running_pod_row() {
    assert_eq!(
        columns(&resources::PODS),
        [
            "Name",
            "Ready",
            "Status",
            "Restarts",
            "Age",
            "IP*",
            "Node*",
            "Nominated Node*",
            "Readiness Gates*"
        ]
    );
    let pod = json!({
        "metadata": {"name": "web-1", "creationTimestamp": "2025-01-01T11:57:58Z"},
        "spec": {"nodeName": "sim-node-1", "containers": [{"name": "a"}, {"name": "b"}]},
        "status": {"phase": "Running", "podIP": "10.244.1.5", "podIPs": [{"ip": "10.244.1.5"}],
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {"name": "a", "ready": true, "restartCount": 2, "state": {"running": {}},
                 "lastState": {"terminated": {"finishedAt": "2025-01-01T11:59:15Z"}}},
                {"name": "b", "ready": true, "restartCount": 0, "state": {"running": {}}}
            ]}
    });
    assert_eq!(
        one(&resources::PODS, pod),
        json!([
            "web-1",
            "2/2",
            "Running",
            "2 (45s ago)",
            "2m2s",
            "10.244.1.5",
            "sim-node-1",
            "<none>",
            "<none>"
        ])
    );
}

#[test]
fn pod_status_reasons() {
    let base = |status: Value| json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]}, "status": status});
    let cell = |pod: Value| one(&resources::PODS, pod)[2].clone();
    assert_eq!(
        cell(base(
            json!({"phase": "Running", "containerStatuses": [{"name": "a", "restartCount": 5,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]})
        )),
        "CrashLoopBackOff"
    );
    assert_eq!(
        cell(base(
            json!({"phase": "Pending", "containerStatuses": [{"name": "a",
            "state": {"waiting": {"reason": "ContainerCreating"}}}]})
        )),
        "ContainerCreating"
    );
    assert_eq!(
        cell(base(
            json!({"phase": "Succeeded", "containerStatuses": [{"name": "a",
            "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}]})
        )),
        "Completed"
    );
    assert_eq!(
        cell(base(
            json!({"phase": "Running", "containerStatuses": [{"name": "a",
            "state": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]})
        )),
        "OOMKilled"
    );
    let mut init = base(json!({"phase": "Pending", "initContainerStatuses": [
        {"name": "i1", "state": {"terminated": {"exitCode": 0}}},
        {"name": "i2", "state": {"running": {}}}]}));
    init["spec"]["initContainers"] = json!([{"name": "i1"}, {"name": "i2"}]);
    assert_eq!(cell(init), "Init:1/2");
    let mut deleting = base(json!({"phase": "Running"}));
    deleting["metadata"]["deletionTimestamp"] = json!("2025-01-01T12:00:00Z");
    assert_eq!(cell(deleting), "Terminating");
}

#[test]
fn service_and_deployment_rows() {
    let svc = json!({"metadata": {"name": "web", "creationTimestamp": "2025-01-01T10:00:00Z"},
        "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
            "ports": [{"port": 80, "protocol": "TCP"}, {"port": 443, "protocol": "TCP", "nodePort": 30443}],
            "selector": {"app": "web"}}});
    assert_eq!(
        one(&resources::SERVICES, svc),
        json!([
            "web",
            "ClusterIP",
            "10.96.0.10",
            "<none>",
            "80/TCP,443:30443/TCP",
            "120m",
            "app=web"
        ])
    );
    let dep = json!({"metadata": {"name": "web", "creationTimestamp": "2024-12-30T08:00:00Z"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
            "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}},
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}});
    assert_eq!(
        one(&resources::DEPLOYMENTS, dep),
        json!(["web", "2/3", 3, 2, "2d4h", "web", "nginx:1.25", "app=web"])
    );
}

#[test]
fn node_hpa_and_event_rows() {
    let node = json!({"metadata": {"name": "n1", "creationTimestamp": "2025-01-01T11:00:00Z",
        "labels": {"node-role.kubernetes.io/control-plane": ""}},
        "spec": {"unschedulable": true},
        "status": {"conditions": [{"type": "Ready", "status": "True"}],
            "addresses": [{"type": "InternalIP", "address": "172.18.0.2"}],
            "nodeInfo": {"kubeletVersion": "v1.31.4"}}});
    assert_eq!(
        one(&resources::NODES, node),
        json!([
            "n1",
            "Ready,SchedulingDisabled",
            "control-plane",
            "60m",
            "v1.31.4",
            "172.18.0.2",
            "<none>",
            "<unknown>",
            "<unknown>",
            "<unknown>"
        ])
    );
    let hpa = json!({"metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 5,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}},
                        {"type": "Resource", "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 80}}}]},
        "status": {"currentReplicas": 2, "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 45}}}]}});
    let cells = one(&resources::HPAS, hpa);
    assert_eq!(cells[1], "Deployment/web");
    assert_eq!(cells[2], "cpu: 45%/70%, memory: <unknown>/80%");
    assert_eq!(
        (cells[3].clone(), cells[4].clone(), cells[5].clone()),
        (json!("1"), json!(5), json!(2))
    );
    let ev = json!({"metadata": {"name": "web-1.abc"}, "type": "Warning", "reason": "BackOff",
        "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{web}"},
        "source": {"component": "kubelet", "host": "n1"}, "message": "Back-off restarting failed container\n",
        "firstTimestamp": "2025-01-01T11:00:00Z", "lastTimestamp": "2025-01-01T11:59:30Z", "count": 7});
    assert_eq!(
        one(&resources::EVENTS, ev),
        json!([
            "30s",
            "Warning",
            "BackOff",
            "pod/web-1",
            "spec.containers{web}",
            "kubelet, n1",
            "Back-off restarting failed container",
            "60m",
            7,
            "web-1.abc"
        ])
    );
}

#[test]
fn rows_carry_partial_metadata_or_the_object() {
    let cm = crate::store::Stored::new(
        json!({"metadata": {"name": "c", "creationTimestamp": "2025-01-01T11:59:00Z"},
        "data": {"a": "1", "b": "2"}}),
    );
    let t = table(
        &resources::CONFIGMAPS,
        std::slice::from_ref(&cm),
        IncludeObject::Metadata,
        json!({"resourceVersion": "9"}),
        now(),
    );
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["metadata"]["resourceVersion"], "9");
    assert_eq!(t["rows"][0]["cells"], json!(["c", 2, "60s"]));
    assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(t["rows"][0]["object"]["metadata"]["name"], "c");
    let t = table(
        &resources::CONFIGMAPS,
        std::slice::from_ref(&cm),
        IncludeObject::Object,
        json!({}),
        now(),
    );
    assert_eq!(t["rows"][0]["object"]["data"]["a"], "1");
    let t = table(
        &resources::CONFIGMAPS,
        &[cm],
        IncludeObject::None,
        json!({}),
        now(),
    );
    assert!(t["rows"][0].get("object").is_none());
    assert_eq!(IncludeObject::parse(""), IncludeObject::Metadata);
}

#[test]
fn ingress_storage_class_and_binding_rows() {
    let ing = json!({"metadata": {"name": "web", "creationTimestamp": "2025-01-01T11:59:00Z"},
        "spec": {"ingressClassName": "nginx", "rules": [{"host": "a.example.com"}, {"host": "b.example.com"}],
            "tls": [{"hosts": ["a.example.com"]}]},
        "status": {"loadBalancer": {"ingress": [{"ip": "172.18.0.10"}]}}});
    assert_eq!(
        one(&resources::INGRESSES, ing),
        json!([
            "web",
            "nginx",
            "a.example.com,b.example.com",
            "172.18.0.10",
            "80, 443",
            "60s"
        ])
    );
    let sc = json!({"metadata": {"name": "standard", "creationTimestamp": "2025-01-01T11:59:00Z",
        "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": "rancher.io/local-path", "volumeBindingMode": "WaitForFirstConsumer"});
    assert_eq!(
        one(&resources::STORAGE_CLASSES, sc),
        json!([
            "standard (default)",
            "rancher.io/local-path",
            "Delete",
            "WaitForFirstConsumer",
            false,
            "60s"
        ])
    );
    let rb = json!({"metadata": {"name": "view", "creationTimestamp": "2025-01-01T11:59:00Z"},
        "roleRef": {"kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "demo"}, {"kind": "User", "name": "jane"}]});
    assert_eq!(
        one(&resources::ROLE_BINDINGS, rb),
        json!([
            "view",
            "ClusterRole/view",
            "60s",
            "jane",
            "",
            "demo/default"
        ])
    );
    let np = json!({"metadata": {"name": "deny", "creationTimestamp": "2025-01-01T11:59:00Z"}, "spec": {"podSelector": {}}});
    assert_eq!(
        one(&resources::NETWORK_POLICIES, np),
        json!(["deny", "<none>", "60s"])
    );
}

#[test]
fn default_table_for_other_kinds_and_job_rows() {
    assert_eq!(columns(&resources::ROLES), ["Name", "Created At"]);
    let job = json!({"metadata": {"name": "j", "creationTimestamp": "2025-01-01T11:50:00Z"},
        "spec": {"completions": 3, "parallelism": 1, "template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}},
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u1"}}},
        "status": {"succeeded": 3, "startTime": "2025-01-01T11:50:00Z", "completionTime": "2025-01-01T11:50:40Z",
            "conditions": [{"type": "Complete", "status": "True"}]}});
    assert_eq!(
        one(&resources::JOBS, job),
        json!([
            "j",
            "Complete",
            "3/3",
            "40s",
            "10m",
            "c",
            "busybox",
            "batch.kubernetes.io/controller-uid=u1"
        ])
    );
}
