//! Whether the database a backup names answers, as seen from the pod's
//! namespace: DNS names and IPs resolved against the cluster's Services and
//! pods.

use serde_json::Value;

use crate::controllers::Ctx;
use crate::controllers::workload_util::{is_terminating, pod_is_ready};
use crate::hash::fnv64_parts;
use crate::resources;
use crate::store::meta_str;
use kubedeck_kube::selector::LabelSelector;

/// Whether a database host answers, seen from a pod's namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Reach {
    /// A Ready pod is behind it.
    Up { ip: String },
    /// The name resolves but nothing listens: connection refused.
    Refused { ip: String },
    /// No such Service: the name does not resolve.
    NoSuchHost,
    /// No host given: the local socket, and nothing runs there.
    NoLocalServer,
}

pub(super) fn reach(ctx: &Ctx, ns: &str, host: Option<&str>) -> Reach {
    let Some(host) = host else {
        return Reach::NoLocalServer;
    };
    let host = host.trim_end_matches('.');
    let labels: Vec<&str> = host.split('.').collect();
    if labels.iter().all(|l| l.parse::<u8>().is_ok()) && labels.len() == 4 {
        return reach_ip(ctx, host);
    }
    // `svc`, `svc.ns`, `svc.ns.svc[.cluster.local]`, or a StatefulSet pod's
    // `pod.svc.ns.svc.cluster.local`.
    let suffix_at = labels
        .iter()
        .position(|l| *l == "svc")
        .unwrap_or(labels.len());
    let (pod, svc, svc_ns) = match suffix_at {
        0 => return Reach::NoSuchHost,
        1 => (None, labels[0], ns),
        2 if labels.len() > 2 => (None, labels[0], labels[1]),
        2 => {
            // `a.b`: a Service in namespace b, or pod a of Service b here.
            if ctx
                .store
                .get(&resources::SERVICES, labels[1], labels[0])
                .is_some()
            {
                (None, labels[0], labels[1])
            } else {
                (Some(labels[0]), labels[1], ns)
            }
        }
        3 => (Some(labels[0]), labels[1], labels[2]),
        _ => return Reach::NoSuchHost,
    };
    let Some(service) = ctx.store.get(&resources::SERVICES, svc_ns, svc) else {
        return Reach::NoSuchHost;
    };
    let ip = service["spec"]["clusterIP"]
        .as_str()
        .filter(|ip| !ip.is_empty() && *ip != "None")
        .map(str::to_string)
        .unwrap_or_else(|| fake_ip(svc_ns, svc));
    if service["spec"]["type"].as_str() == Some("ExternalName") {
        return Reach::Up { ip };
    }
    let ready = ready_backends(ctx, &service);
    let up = match pod {
        Some(p) => ready.iter().any(|(name, _)| name == p),
        None => !ready.is_empty(),
    };
    match (up, pod) {
        (true, Some(p)) => Reach::Up {
            ip: ready
                .iter()
                .find(|(n, _)| n == p)
                .map_or(ip, |(_, pip)| pip.clone()),
        },
        (true, None) => Reach::Up { ip },
        (false, _) => Reach::Refused { ip },
    }
}

fn reach_ip(ctx: &Ctx, ip: &str) -> Reach {
    for svc in ctx.store.list(&resources::SERVICES, None) {
        if svc["spec"]["clusterIP"].as_str() == Some(ip) {
            return if ready_backends(ctx, &svc).is_empty() {
                Reach::Refused { ip: ip.to_string() }
            } else {
                Reach::Up { ip: ip.to_string() }
            };
        }
    }
    let pod_up = ctx
        .store
        .list(&resources::PODS, None)
        .iter()
        .any(|p| p["status"]["podIP"].as_str() == Some(ip) && pod_ready(p));
    if pod_up {
        Reach::Up { ip: ip.to_string() }
    } else {
        Reach::Refused { ip: ip.to_string() }
    }
}

/// Ready and not being deleted: a pod that answers connections.
fn pod_ready(pod: &Value) -> bool {
    !is_terminating(pod) && pod_is_ready(pod)
}

/// (name, ip) of the Ready pods a Service sends traffic to: its selector's
/// pods, read straight from the store so the answer does not wait for the
/// endpoints controller; a selector-less Service uses its Endpoints.
fn ready_backends(ctx: &Ctx, service: &Value) -> Vec<(String, String)> {
    let ns = meta_str(service, "namespace");
    let selector = &service["spec"]["selector"];
    if selector.as_object().is_some_and(|m| !m.is_empty()) {
        let sel = LabelSelector::from_map(selector);
        return ctx
            .store
            .list(&resources::PODS, Some(ns))
            .iter()
            .filter(|p| sel.matches(&p["metadata"]["labels"]) && pod_ready(p))
            .map(|p| {
                (
                    meta_str(p, "name").to_string(),
                    p["status"]["podIP"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
    }
    let Some(ep) = ctx
        .store
        .get(&resources::ENDPOINTS, ns, meta_str(service, "name"))
    else {
        return Vec::new();
    };
    ep["subsets"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["addresses"].as_array().into_iter().flatten())
        .map(|a| {
            (
                a["targetRef"]["name"].as_str().unwrap_or("").to_string(),
                a["ip"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// A stable service-range address for a Service without a clusterIP yet.
fn fake_ip(ns: &str, name: &str) -> String {
    let h = fnv64_parts(&[ns, name], 0xff);
    format!("10.96.{}.{}", (h >> 8) % 256, h % 254 + 1)
}
