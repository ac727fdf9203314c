//! Services, Endpoints, EndpointSlices, Ingresses and NetworkPolicies.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::cells::{age, arr, format_labels, format_selector, int, name, or_none, s};
use super::{AGE, Col, NAME, Printer, col, is, wide};
use crate::resources::{self, ResourceDef};

/// The columns and row printer of a kind of this group.
pub(super) fn printer(res: &ResourceDef) -> Option<(Vec<Col>, Printer)> {
    if is(res, &resources::SERVICES) {
        Some((
            vec![
                NAME,
                col(
                    "Type",
                    "string",
                    "type determines how the Service is exposed.",
                ),
                col(
                    "Cluster-IP",
                    "string",
                    "clusterIP is the IP address of the service and is usually assigned randomly.",
                ),
                col(
                    "External-IP",
                    "string",
                    "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
                ),
                col(
                    "Port(s)",
                    "string",
                    "The list of ports that are exposed by this service.",
                ),
                AGE,
                wide(
                    "Selector",
                    "string",
                    "Route service traffic to pods with label keys and values matching this selector.",
                ),
            ],
            service_row,
        ))
    } else if is(res, &resources::ENDPOINTS) {
        Some((
            vec![
                NAME,
                col(
                    "Endpoints",
                    "string",
                    "The set of all endpoints is the union of all subsets.",
                ),
                AGE,
            ],
            endpoints_row,
        ))
    } else if is(res, &resources::ENDPOINT_SLICES) {
        Some((
            vec![
                NAME,
                col(
                    "AddressType",
                    "string",
                    "addressType specifies the type of address carried by this EndpointSlice.",
                ),
                col(
                    "Ports",
                    "string",
                    "ports specifies the list of network ports exposed by each endpoint in this slice.",
                ),
                col(
                    "Endpoints",
                    "string",
                    "endpoints is a list of unique endpoints in this slice.",
                ),
                AGE,
            ],
            endpointslice_row,
        ))
    } else if is(res, &resources::INGRESSES) {
        Some((
            vec![
                NAME,
                col(
                    "Class",
                    "string",
                    "The name of the IngressClass resource that should be used for this Ingress",
                ),
                col(
                    "Hosts",
                    "string",
                    "Hosts that incoming requests are matched against before the ingress rule",
                ),
                col(
                    "Address",
                    "string",
                    "Address is a list containing ingress points for the load-balancer",
                ),
                col("Ports", "string", "Ports of TLS configurations that open"),
                AGE,
            ],
            ingress_row,
        ))
    } else if is(res, &resources::NETWORK_POLICIES) {
        Some((
            vec![
                NAME,
                col(
                    "Pod-Selector",
                    "string",
                    "podSelector selects the pods to which this NetworkPolicy object applies.",
                ),
                AGE,
            ],
            network_policy_row,
        ))
    } else {
        None
    }
}

fn service_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    let spec = &o["spec"];
    let ty = s(&spec["type"]);
    let cluster_ip = arr(&spec["clusterIPs"])
        .first()
        .and_then(Value::as_str)
        .or_else(|| spec["clusterIP"].as_str())
        .unwrap_or_default();
    let external: Vec<&str> = arr(&spec["externalIPs"])
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let external_ip = match ty {
        "ClusterIP" | "NodePort" | "" => or_none(&external.join(",")),
        "LoadBalancer" => {
            let mut ips: Vec<&str> = arr(&o["status"]["loadBalancer"]["ingress"])
                .iter()
                .map(|i| {
                    let ip = s(&i["ip"]);
                    if ip.is_empty() { s(&i["hostname"]) } else { ip }
                })
                .filter(|x| !x.is_empty())
                .collect();
            ips.extend(external.iter());
            if ips.is_empty() {
                "<pending>".into()
            } else {
                ips.join(",")
            }
        }
        "ExternalName" => s(&spec["externalName"]).to_string(),
        _ => "<unknown>".into(),
    };
    let ports: Vec<String> = arr(&spec["ports"])
        .iter()
        .map(|p| {
            let proto = s(&p["protocol"]);
            let proto = if proto.is_empty() { "TCP" } else { proto };
            let node_port = int(&p["nodePort"]);
            if node_port > 0 {
                format!("{}:{node_port}/{proto}", int(&p["port"]))
            } else {
                format!("{}/{proto}", int(&p["port"]))
            }
        })
        .collect();
    (
        vec![
            name(o),
            json!(ty),
            json!(or_none(cluster_ip)),
            json!(external_ip),
            json!(or_none(&ports.join(","))),
            age(o, now),
            json!(format_labels(&spec["selector"])),
        ],
        None,
    )
}

/// `host:port` the way Go's `net.JoinHostPort` writes it.
fn join_host_port(ip: &str, port: i64) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

fn endpoints_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    const MAX: usize = 3;
    let subsets = arr(&o["subsets"]);
    let text = if subsets.is_empty() {
        "<none>".to_string()
    } else {
        let mut list = Vec::new();
        let mut count = 0;
        let mut more = false;
        for ss in subsets {
            let addrs = arr(&ss["addresses"]);
            let ports = arr(&ss["ports"]);
            if ports.is_empty() {
                count += addrs.len();
                for a in addrs {
                    if list.len() == MAX {
                        more = true;
                        break;
                    }
                    list.push(s(&a["ip"]).to_string());
                }
                continue;
            }
            for p in ports {
                count += addrs.len();
                for a in addrs {
                    if list.len() == MAX {
                        more = true;
                        break;
                    }
                    list.push(join_host_port(s(&a["ip"]), int(&p["port"])));
                }
            }
        }
        let joined = list.join(",");
        if more {
            format!("{joined} + {} more...", count - MAX)
        } else {
            joined
        }
    };
    (vec![name(o), json!(text), age(o, now)], None)
}

/// `listWithMoreString`.
fn list_with_more(list: &[String], more: bool, count: usize, max: usize) -> String {
    let joined = list.join(",");
    if more {
        format!("{joined} + {} more...", count - max)
    } else if joined.is_empty() {
        "<unset>".into()
    } else {
        joined
    }
}

fn endpointslice_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    const MAX: usize = 3;
    let ports = arr(&o["ports"]);
    let port_list: Vec<String> = ports
        .iter()
        .take(MAX)
        .map(|p| match p["port"].as_i64() {
            Some(n) => n.to_string(),
            None => p["name"].as_str().unwrap_or("*").to_string(),
        })
        .collect();
    let addrs: Vec<String> = arr(&o["endpoints"])
        .iter()
        .flat_map(|e| arr(&e["addresses"]).iter().map(|a| s(a).to_string()))
        .collect();
    let shown: Vec<String> = addrs.iter().take(MAX).cloned().collect();
    (
        vec![
            name(o),
            json!(s(&o["addressType"])),
            json!(list_with_more(
                &port_list,
                ports.len() > MAX,
                ports.len(),
                MAX
            )),
            json!(list_with_more(&shown, addrs.len() > MAX, addrs.len(), MAX)),
            age(o, now),
        ],
        None,
    )
}

fn ingress_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    const MAX: usize = 3;
    let spec = &o["spec"];
    let rules = arr(&spec["rules"]);
    let hosts: Vec<&str> = rules
        .iter()
        .map(|r| s(&r["host"]))
        .take(MAX)
        .filter(|h| !h.is_empty())
        .collect();
    let hosts = if hosts.is_empty() {
        "*".to_string()
    } else if rules.len() > MAX {
        format!("{} + {} more...", hosts.join(","), rules.len() - MAX)
    } else {
        hosts.join(",")
    };
    let address: Vec<&str> = arr(&o["status"]["loadBalancer"]["ingress"])
        .iter()
        .map(|i| {
            let ip = s(&i["ip"]);
            if ip.is_empty() { s(&i["hostname"]) } else { ip }
        })
        .filter(|a| !a.is_empty())
        .collect();
    let ports = if arr(&spec["tls"]).is_empty() {
        "80"
    } else {
        "80, 443"
    };
    (
        vec![
            name(o),
            json!(or_none(s(&spec["ingressClassName"]))),
            json!(hosts),
            json!(address.join(",")),
            json!(ports),
            age(o, now),
        ],
        None,
    )
}

fn network_policy_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    (
        vec![
            name(o),
            json!(format_selector(&o["spec"]["podSelector"])),
            age(o, now),
        ],
        None,
    )
}
