//! The endpoints and endpointslice controllers: for every Service with a
//! selector, an `Endpoints` object of the same name and an `EndpointSlice`
//! listing the matching pods that have an IP, ready or not, with the
//! service's ports resolved against each pod's container ports. Services
//! without a selector are left to whoever manages their endpoints.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::workload_util::{is_terminal, pod_is_ready};
use super::{Controller, Ctx};
use crate::resources::{self, ResourceDef};
use crate::store::{Change, ChangeType, DeleteOptions, Obj, ObjKey, meta_str, obj_key};

pub(crate) const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
pub(crate) const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
pub(crate) const MANAGED_BY: &str = "endpointslice-controller.k8s.io";

/// Namespaces with more pods than this are synced at most every
/// `BATCH_WINDOW`, so a burst of pod changes costs one listing, not one per
/// change.
const BIG_NAMESPACE: usize = 1000;
const BATCH_WINDOW: Duration = Duration::from_millis(200);

pub(crate) fn controllers() -> Vec<Arc<dyn Controller>> {
    vec![Arc::new(EndpointsController::default())]
}

/// Whether a map selector (a Service's) selects these labels; an empty or
/// missing selector selects nothing here, as services without one are
/// not ours.
pub(crate) fn map_selects(selector: &Value, labels: &Value) -> bool {
    selector
        .as_object()
        .is_some_and(|s| !s.is_empty() && s.iter().all(|(k, v)| labels[k] == *v))
}

/// The fields of a pod that its endpoints depend on.
fn pod_view(pod: &Value) -> Value {
    json!([
        pod["metadata"]["labels"],
        pod["metadata"]["deletionTimestamp"].is_null(),
        pod["status"]["podIP"],
        pod["status"]["phase"],
        pod["spec"]["nodeName"],
        pod["spec"]["hostname"],
        pod["spec"]["subdomain"],
        pod_is_ready(pod),
    ])
}

/// The annotation the real controllers put on Endpoints and EndpointSlices:
/// when the last change that triggered them happened.
const TRIGGER_TIME_ANNOTATION: &str = "endpoints.kubernetes.io/last-change-trigger-time";

/// The label of a headless service's slices.
const HEADLESS_LABEL: &str = "service.kubernetes.io/headless";

/// When a pod last changed in a way endpoints see, as the real trigger-time
/// tracker takes it: its Ready condition's transition, else its creation.
fn pod_trigger_time(pod: &Value) -> String {
    pod["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Ready")
        .and_then(|c| c["lastTransitionTime"].as_str())
        .or_else(|| pod["metadata"]["creationTimestamp"].as_str())
        .unwrap_or("")
        .to_string()
}

/// A service port resolved for one pod: (name, port, protocol).
type Port = (String, i64, String);

fn resolve_ports(svc: &Value, pod: &Value) -> Vec<Port> {
    let mut out = Vec::new();
    for sp in svc["spec"]["ports"].as_array().into_iter().flatten() {
        let name = sp["name"].as_str().unwrap_or("").to_string();
        let protocol = sp["protocol"].as_str().unwrap_or("TCP").to_string();
        let port = match &sp["targetPort"] {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => match s.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => pod["spec"]["containers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|c| c["ports"].as_array().into_iter().flatten())
                    .find(|p| p["name"].as_str() == Some(s.as_str()))
                    .and_then(|p| p["containerPort"].as_i64()),
            },
            _ => sp["port"].as_i64(),
        };
        // A named port the pod does not expose is skipped for that pod.
        if let Some(port) = port {
            out.push((name, port, protocol));
        }
    }
    out
}

fn ports_json(ports: &[Port]) -> Value {
    ports
        .iter()
        .map(|(name, port, protocol)| {
            let mut p = json!({"port": port, "protocol": protocol});
            if !name.is_empty() {
                p["name"] = json!(name);
            }
            p
        })
        .collect()
}

/// An EndpointSlice's ports: `name` is always there, empty for an unnamed
/// service port (clients dereference it: `kubectl describe service`
/// crashes on a slice port without one).
fn slice_ports_json(ports: &[Port]) -> Value {
    ports
        .iter()
        .map(|(name, port, protocol)| json!({"name": name, "port": port, "protocol": protocol}))
        .collect()
}

struct Member {
    ip: String,
    node: String,
    /// The pod's `hostname`, when its `subdomain` is this service.
    hostname: Option<String>,
    target: Value,
    ready: bool,
    serving: bool,
    terminating: bool,
}

#[derive(Default)]
pub(crate) struct EndpointsController {
    /// Per service: when it was last synced and how many pods that listed.
    last: Mutex<HashMap<ObjKey, (Instant, usize)>>,
}

impl EndpointsController {
    fn remove_all(ctx: &Ctx, ns: &str, name: &str) {
        if ctx.store.get(&resources::ENDPOINTS, ns, name).is_some() {
            ctx.store
                .delete(&resources::ENDPOINTS, ns, name, &DeleteOptions::default())
                .ok();
        }
        for s in owned_slices(ctx, ns, name) {
            ctx.store
                .delete(
                    &resources::ENDPOINT_SLICES,
                    ns,
                    meta_str(&s, "name"),
                    &DeleteOptions::default(),
                )
                .ok();
        }
    }

    fn sync(&self, ctx: &Ctx, svc: &Value) -> usize {
        let ns = meta_str(svc, "namespace");
        let selector = &svc["spec"]["selector"];
        let publish = svc["spec"]["publishNotReadyAddresses"].as_bool() == Some(true);
        let pods = ctx.store.list(&resources::PODS, Some(ns));
        let listed = pods.len();
        let mut zones: HashMap<String, Option<String>> = HashMap::new();
        let mut groups: BTreeMap<Vec<Port>, Vec<Member>> = BTreeMap::new();
        let mut trigger = svc["metadata"]["creationTimestamp"]
            .as_str()
            .unwrap_or("")
            .to_string();
        for pod in pods
            .iter()
            .filter(|p| map_selects(selector, &p["metadata"]["labels"]))
        {
            let ip = pod["status"]["podIP"].as_str().unwrap_or("");
            let node = pod["spec"]["nodeName"].as_str().unwrap_or("");
            if ip.is_empty() || node.is_empty() || is_terminal(pod) {
                continue;
            }
            zones.entry(node.to_string()).or_insert_with(|| {
                ctx.store.get(&resources::NODES, "", node).and_then(|n| {
                    n["metadata"]["labels"]["topology.kubernetes.io/zone"]
                        .as_str()
                        .map(str::to_string)
                })
            });
            let terminating = !pod["metadata"]["deletionTimestamp"].is_null();
            let ready = pod_is_ready(pod);
            trigger = trigger.max(pod_trigger_time(pod));
            let hostname = pod["spec"]["hostname"]
                .as_str()
                .filter(|h| !h.is_empty() && pod["spec"]["subdomain"] == svc["metadata"]["name"])
                .map(str::to_string);
            groups
                .entry(resolve_ports(svc, pod))
                .or_default()
                .push(Member {
                    ip: ip.to_string(),
                    node: node.to_string(),
                    hostname,
                    target: json!({"kind": "Pod", "namespace": ns, "name": meta_str(pod, "name"),
                                   "uid": meta_str(pod, "uid")}),
                    ready: (ready || publish) && !terminating,
                    serving: ready || publish,
                    terminating,
                });
        }
        for members in groups.values_mut() {
            members.sort_by(|a, b| a.ip.cmp(&b.ip));
        }
        self.write_endpoints(ctx, svc, &groups, publish, &trigger);
        self.write_slices(ctx, svc, &groups, &zones, &trigger);
        listed
    }

    fn write_endpoints(
        &self,
        ctx: &Ctx,
        svc: &Value,
        groups: &BTreeMap<Vec<Port>, Vec<Member>>,
        publish: bool,
        trigger: &str,
    ) {
        let ns = meta_str(svc, "namespace");
        let name = meta_str(svc, "name");
        let mut subsets = Vec::new();
        for (ports, members) in groups {
            let addr = |m: &Member| {
                let mut a = json!({"ip": m.ip, "nodeName": m.node, "targetRef": m.target});
                if let Some(h) = &m.hostname {
                    a["hostname"] = json!(h);
                }
                a
            };
            // Terminating pods leave Endpoints unless not-ready ones are published.
            let listed = members.iter().filter(|m| !m.terminating || publish);
            let (ready, not_ready): (Vec<&Member>, Vec<&Member>) = listed.partition(|m| m.ready);
            if ready.is_empty() && not_ready.is_empty() {
                continue;
            }
            let mut s = json!({});
            if !ready.is_empty() {
                s["addresses"] = ready.into_iter().map(addr).collect();
            }
            if !not_ready.is_empty() {
                s["notReadyAddresses"] = not_ready.into_iter().map(addr).collect();
            }
            if !ports.is_empty() {
                s["ports"] = ports_json(ports);
            }
            subsets.push(s);
        }
        let labels = svc["metadata"]["labels"].clone();
        let subsets = (!subsets.is_empty()).then(|| json!(subsets));
        let apply = |ep: &mut Value| {
            match &subsets {
                Some(s) => ep["subsets"] = s.clone(),
                None => {
                    if let Some(m) = ep.as_object_mut() {
                        m.remove("subsets");
                    }
                }
            }
            if labels.is_object() {
                ep["metadata"]["labels"] = labels.clone();
            }
            if !trigger.is_empty() {
                ep["metadata"]["annotations"][TRIGGER_TIME_ANNOTATION] = json!(trigger);
            }
        };
        let result = if ctx.store.get(&resources::ENDPOINTS, ns, name).is_some() {
            ctx.store
                .modify(&resources::ENDPOINTS, ns, name, apply)
                .map(|_| ())
        } else {
            let mut ep = json!({"metadata": {"name": name, "namespace": ns}});
            apply(&mut ep);
            ctx.store.create(&resources::ENDPOINTS, ep).map(|_| ())
        };
        if let Err(e) = result {
            tracing::debug!(service = name, "endpoints write failed: {e}");
        }
    }

    fn write_slices(
        &self,
        ctx: &Ctx,
        svc: &Value,
        groups: &BTreeMap<Vec<Port>, Vec<Member>>,
        zones: &HashMap<String, Option<String>>,
        trigger: &str,
    ) {
        let ns = meta_str(svc, "namespace");
        let name = meta_str(svc, "name");
        let mut desired: Vec<(Value, Value)> = groups
            .iter()
            .map(|(ports, members)| {
                let endpoints: Vec<Value> = members
                    .iter()
                    .map(|m| {
                        let mut e = json!({
                            "addresses": [m.ip],
                            "conditions": {"ready": m.ready, "serving": m.serving,
                                           "terminating": m.terminating},
                            "nodeName": m.node,
                            "targetRef": m.target,
                        });
                        if let Some(Some(zone)) = zones.get(&m.node) {
                            e["zone"] = json!(zone);
                        }
                        if let Some(h) = &m.hostname {
                            e["hostname"] = json!(h);
                        }
                        e
                    })
                    .collect();
                (json!(endpoints), slice_ports_json(ports))
            })
            .collect();
        if desired.is_empty() {
            // A placeholder slice, as the real controller keeps.
            desired.push((json!([]), Value::Null));
        }
        let mut labels = svc["metadata"]["labels"].clone();
        if !labels.is_object() {
            labels = json!({});
        }
        labels[SERVICE_NAME_LABEL] = json!(name);
        labels[MANAGED_BY_LABEL] = json!(MANAGED_BY);
        if svc["spec"]["clusterIP"] == "None" {
            labels[HEADLESS_LABEL] = json!("");
        }
        let owner = json!([{"apiVersion": "v1", "kind": "Service", "name": name,
                            "uid": meta_str(svc, "uid"), "controller": true,
                            "blockOwnerDeletion": true}]);
        let apply = |s: &mut Value, endpoints: &Value, ports: &Value| {
            s["addressType"] = json!("IPv4");
            s["endpoints"] = endpoints.clone();
            if ports.is_null() {
                if let Some(m) = s.as_object_mut() {
                    m.remove("ports");
                }
            } else {
                s["ports"] = ports.clone();
            }
            s["metadata"]["labels"] = labels.clone();
            s["metadata"]["ownerReferences"] = owner.clone();
            if !trigger.is_empty() {
                s["metadata"]["annotations"][TRIGGER_TIME_ANNOTATION] = json!(trigger);
            }
        };
        let mut existing = owned_slices(ctx, ns, name);
        existing.sort_by(|a, b| meta_str(a, "name").cmp(meta_str(b, "name")));
        for (i, (endpoints, ports)) in desired.iter().enumerate() {
            let result = match existing.get(i) {
                Some(s) => ctx
                    .store
                    .modify(&resources::ENDPOINT_SLICES, ns, meta_str(s, "name"), |s| {
                        apply(s, endpoints, ports)
                    })
                    .map(|_| ()),
                None => {
                    let mut s =
                        json!({"metadata": {"generateName": format!("{name}-"), "namespace": ns}});
                    apply(&mut s, endpoints, ports);
                    ctx.store.create(&resources::ENDPOINT_SLICES, s).map(|_| ())
                }
            };
            if let Err(e) = result {
                tracing::debug!(service = name, "endpointslice write failed: {e}");
            }
        }
        for extra in existing.iter().skip(desired.len()) {
            ctx.store
                .delete(
                    &resources::ENDPOINT_SLICES,
                    ns,
                    meta_str(extra, "name"),
                    &DeleteOptions::default(),
                )
                .ok();
        }
    }
}

fn owned_slices(ctx: &Ctx, ns: &str, service: &str) -> Vec<Obj> {
    ctx.store
        .list_page(
            &resources::ENDPOINT_SLICES,
            Some(ns),
            None,
            usize::MAX,
            &|s| {
                let l = &s["metadata"]["labels"];
                l[SERVICE_NAME_LABEL] == service && l[MANAGED_BY_LABEL] == MANAGED_BY
            },
        )
        .0
}

impl Controller for EndpointsController {
    fn name(&self) -> &'static str {
        "endpoint-controller"
    }

    fn primary(&self) -> &'static ResourceDef {
        &resources::SERVICES
    }

    fn keys_for(&self, ctx: &Ctx, change: &Change) -> Vec<ObjKey> {
        let obj = &change.object;
        let res = change.res;
        if std::ptr::eq(res, &resources::SERVICES) || std::ptr::eq(res, &resources::ENDPOINTS) {
            return vec![obj_key(obj)];
        }
        if std::ptr::eq(res, &resources::ENDPOINT_SLICES) {
            let svc = obj["metadata"]["labels"][SERVICE_NAME_LABEL].as_str();
            return svc
                .map(|s| vec![(meta_str(obj, "namespace").to_string(), s.to_string())])
                .unwrap_or_default();
        }
        if !std::ptr::eq(res, &resources::PODS) {
            return Vec::new();
        }
        if change.kind == ChangeType::Modified
            && change
                .old
                .as_ref()
                .is_some_and(|o| pod_view(o) == pod_view(obj))
        {
            return Vec::new();
        }
        let ns = meta_str(obj, "namespace");
        let old_labels = change.old.as_ref().map(|o| &o["metadata"]["labels"]);
        ctx.store
            .list(&resources::SERVICES, Some(ns))
            .iter()
            .filter(|s| {
                let sel = &s["spec"]["selector"];
                map_selects(sel, &obj["metadata"]["labels"])
                    || old_labels.is_some_and(|l| map_selects(sel, l))
            })
            .map(|s| obj_key(s))
            .collect()
    }

    fn reconcile(&self, ctx: &Ctx, key: &ObjKey) -> Option<Duration> {
        let Some(svc) = ctx.store.get(&resources::SERVICES, &key.0, &key.1) else {
            self.last
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(key);
            Self::remove_all(ctx, &key.0, &key.1);
            return None;
        };
        if svc["spec"]["selector"]
            .as_object()
            .is_none_or(|s| s.is_empty())
        {
            return None;
        }
        if let Some((at, listed)) = self
            .last
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .copied()
            && listed > BIG_NAMESPACE
            && at.elapsed() < BATCH_WINDOW
        {
            return Some(BATCH_WINDOW - at.elapsed());
        }
        let listed = self.sync(ctx, &svc);
        self.last
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.clone(), (Instant::now(), listed));
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::test_ctx;

    /// The namespace `demo` and one node, `n1`, in `zone-a`.
    fn zoned_ctx() -> Ctx {
        let ctx = test_ctx(&["demo"]);
        ctx.store
            .create(
                &resources::NODES,
                json!({"metadata": {"name": "n1", "labels": {"topology.kubernetes.io/zone": "zone-a"}}}),
            )
            .unwrap();
        ctx
    }

    fn pod(ctx: &Ctx, name: &str, ip: &str, ready: bool, labels: Value) {
        ctx.store
            .create(
                &resources::PODS,
                json!({"metadata": {"name": name, "namespace": "demo", "labels": labels},
                   "spec": {"nodeName": "n1", "containers": [{"name": "web", "image": "web",
                            "ports": [{"name": "http", "containerPort": 8080}]}]},
                   "status": {"phase": "Running", "podIP": ip,
                              "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}}),
            )
            .expect("pod");
    }

    fn service(ctx: &Ctx, selector: Value) -> ObjKey {
        let s = ctx
            .store
            .create(
                &resources::SERVICES,
                json!({"metadata": {"name": "web", "namespace": "demo", "labels": {"app": "web"}},
                   "spec": {"selector": selector, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}),
            )
            .expect("svc");
        obj_key(&s)
    }

    #[test]
    fn ready_and_unready_pods_with_a_named_target_port() {
        let ctx = zoned_ctx();
        let c = EndpointsController::default();
        pod(&ctx, "web-a", "10.244.0.3", true, json!({"app": "web"}));
        pod(&ctx, "web-b", "10.244.0.2", false, json!({"app": "web"}));
        pod(&ctx, "other", "10.244.0.4", true, json!({"app": "db"}));
        let key = service(&ctx, json!({"app": "web"}));
        assert_eq!(c.reconcile(&ctx, &key), None);
        let ep = ctx
            .store
            .get(&resources::ENDPOINTS, "demo", "web")
            .expect("endpoints");
        let subset = &ep["subsets"][0];
        assert_eq!(subset["addresses"].as_array().map(Vec::len), Some(1));
        assert_eq!(subset["addresses"][0]["ip"], "10.244.0.3");
        assert_eq!(subset["addresses"][0]["targetRef"]["name"], "web-a");
        assert_eq!(subset["notReadyAddresses"][0]["ip"], "10.244.0.2");
        assert_eq!(
            subset["ports"],
            json!([{"name": "http", "port": 8080, "protocol": "TCP"}])
        );
        assert_eq!(ep["metadata"]["labels"]["app"], "web");

        let slices = owned_slices(&ctx, "demo", "web");
        assert_eq!(slices.len(), 1);
        let s = &slices[0];
        assert!(meta_str(s, "name").starts_with("web-"));
        assert_eq!(s["addressType"], "IPv4");
        assert_eq!(s["metadata"]["ownerReferences"][0]["kind"], "Service");
        let eps = s["endpoints"].as_array().expect("endpoints");
        assert_eq!(eps.len(), 2);
        assert_eq!(eps[0]["addresses"][0], "10.244.0.2");
        assert_eq!(eps[0]["conditions"]["ready"], false);
        assert_eq!(eps[1]["conditions"]["ready"], true);
        assert_eq!(eps[1]["zone"], "zone-a");

        // Unchanged content is not rewritten.
        let rv = ep["metadata"]["resourceVersion"].clone();
        c.reconcile(&ctx, &key);
        let again = ctx
            .store
            .get(&resources::ENDPOINTS, "demo", "web")
            .expect("endpoints");
        assert_eq!(again["metadata"]["resourceVersion"], rv);
    }

    #[test]
    fn pod_changes_map_to_matching_services_and_terminating_pods_leave() {
        let ctx = zoned_ctx();
        let c = EndpointsController::default();
        let key = service(&ctx, json!({"app": "web"}));
        let mut rx = ctx.store.subscribe();
        pod(&ctx, "web-a", "10.244.0.3", true, json!({"app": "web"}));
        pod(&ctx, "db", "10.244.0.9", true, json!({"app": "db"}));
        let mut keys = Vec::new();
        while let Ok(ch) = rx.try_recv() {
            keys.extend(c.keys_for(&ctx, &ch));
        }
        assert_eq!(keys, vec![key.clone()]);
        ctx.store
            .delete(&resources::PODS, "demo", "web-a", &DeleteOptions::default())
            .expect("delete");
        c.reconcile(&ctx, &key);
        let ep = ctx
            .store
            .get(&resources::ENDPOINTS, "demo", "web")
            .expect("endpoints");
        assert!(
            ep["subsets"].is_null(),
            "a terminating pod is not an endpoint"
        );
        let s = &owned_slices(&ctx, "demo", "web")[0];
        assert_eq!(
            s["endpoints"][0]["conditions"],
            json!({"ready": false, "serving": true, "terminating": true})
        );
        // The service goes: its endpoints go with it.
        ctx.store.remove(&resources::SERVICES, "demo", "web");
        c.reconcile(&ctx, &key);
        assert!(
            ctx.store
                .get(&resources::ENDPOINTS, "demo", "web")
                .is_none()
        );
        assert!(owned_slices(&ctx, "demo", "web").is_empty());
    }
}
