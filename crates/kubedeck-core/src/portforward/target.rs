//! What a forward points at, as `kubectl port-forward` takes it
//! (`pod/NAME`, `svc/NAME`, `deploy/NAME`..., `LOCAL:REMOTE`), and which pod
//! and container port that means now.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::Client;
use kube::api::{Api, ListParams};
use kubedeck_kube::selector::LabelSelector;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Pod,
    Service,
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
}

impl TargetKind {
    /// kubectl's short name, used in `svc/web`.
    pub fn short(self) -> &'static str {
        match self {
            TargetKind::Pod => "pod",
            TargetKind::Service => "svc",
            TargetKind::Deployment => "deploy",
            TargetKind::StatefulSet => "sts",
            TargetKind::DaemonSet => "ds",
            TargetKind::ReplicaSet => "rs",
        }
    }

    fn parse(s: &str) -> Option<TargetKind> {
        Some(match s.to_ascii_lowercase().as_str() {
            "pod" | "pods" | "po" => TargetKind::Pod,
            "svc" | "service" | "services" => TargetKind::Service,
            "deploy" | "deployment" | "deployments" => TargetKind::Deployment,
            "sts" | "statefulset" | "statefulsets" => TargetKind::StatefulSet,
            "ds" | "daemonset" | "daemonsets" => TargetKind::DaemonSet,
            "rs" | "replicaset" | "replicasets" => TargetKind::ReplicaSet,
            _ => return None,
        })
    }
}

/// The object a forward goes through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: TargetKind,
    pub namespace: String,
    pub name: String,
}

impl Target {
    /// `TYPE/NAME` or a bare pod name, as kubectl takes them.
    pub fn parse(s: &str, namespace: &str) -> Result<Target, String> {
        let (kind, name) = match s.split_once('/') {
            Some((k, n)) => (
                TargetKind::parse(k).ok_or_else(|| {
                    format!("cannot forward to {k:?}: use pod/, svc/, deploy/, sts/, ds/ or rs/")
                })?,
                n,
            ),
            None => (TargetKind::Pod, s),
        };
        if name.is_empty() || name.contains('/') {
            return Err(format!("{s:?} is not TYPE/NAME"));
        }
        Ok(Target {
            kind,
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
    }

    /// `svc/web`, as the audit log and the `:pf` view name it.
    pub fn object(&self) -> String {
        format!("{}/{}", self.kind.short(), self.name)
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} in {}", self.object(), self.namespace)
    }
}

/// A remote port by number or by name (a container port's, or for a
/// Service one of its ports').
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemotePort {
    Number(u16),
    Name(String),
}

impl std::fmt::Display for RemotePort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RemotePort::Number(n) => write!(f, "{n}"),
            RemotePort::Name(s) => f.write_str(s),
        }
    }
}

/// `LOCAL:REMOTE`, `REMOTE` or `:REMOTE`; no local port (or 0) lets the OS
/// choose one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    pub local: u16,
    pub remote: RemotePort,
}

impl PortSpec {
    pub fn parse(s: &str) -> Result<PortSpec, String> {
        let (local, remote) = match s.split_once(':') {
            Some((l, r)) => (l, r),
            None => ("", s),
        };
        let remote = match remote.parse::<u16>() {
            Ok(0) => return Err(format!("invalid port {s:?}: the remote port cannot be 0")),
            Ok(n) => RemotePort::Number(n),
            Err(_) if is_port_name(remote) => RemotePort::Name(remote.to_string()),
            Err(_) => {
                return Err(format!(
                    "invalid port {s:?}: the remote port is not a number or a port name"
                ));
            }
        };
        // A bare REMOTE takes a free local port (printed), as `:REMOTE`
        // does: the same number would often need privileges (80, 443).
        let local = match local {
            "" => 0,
            l => l
                .parse::<u16>()
                .map_err(|_| format!("invalid port {s:?}: the local port is not a number"))?,
        };
        Ok(PortSpec { local, remote })
    }
}

/// An IANA service name, as a container port's name is.
fn is_port_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 15
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && s.chars().any(|c| c.is_ascii_lowercase())
}

/// The pod a forward reaches now, and the port on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    pub pod: String,
    pub uid: String,
    pub port: u16,
}

/// Turns a target into pods: the pod itself, or a Running one of those
/// its selector chooses (a Service's, a workload's, or for a pod its
/// controller's, so a replacement can be found).
pub(crate) struct Resolver {
    client: Client,
    pub(crate) target: Target,
    /// For a Service: its port, mapped per pod to the target port.
    pub(crate) pod_port: RemotePort,
    selector: Option<LabelSelector>,
    /// Which kind of group the selector stands for, for messages.
    group: String,
}

impl Resolver {
    pub(crate) async fn new(
        client: Client,
        target: Target,
        remote: RemotePort,
    ) -> Result<Resolver, String> {
        let ns = target.namespace.clone();
        let name = target.name.clone();
        let not_found = |e: kube::Error| match e {
            kube::Error::Api(s) if s.code == 404 => format!("{} not found", target_words(&target)),
            e => format!("cannot read {}: {}", target_words(&target), api_message(e)),
        };
        let selector_of =
            |v: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>| {
                let v = serde_json::to_value(v).unwrap_or_default();
                LabelSelector::from_object(&v)
                    .ok()
                    .filter(|s| !s.is_empty())
            };
        let mut pod_port = remote.clone();
        let (selector, group) = match target.kind {
            TargetKind::Pod => {
                let pod = Api::<Pod>::namespaced(client.clone(), &ns)
                    .get(&name)
                    .await
                    .map_err(not_found)?;
                controller_selector(&client, &ns, &pod).await
            }
            TargetKind::Service => {
                let svc = Api::<Service>::namespaced(client.clone(), &ns)
                    .get(&name)
                    .await
                    .map_err(not_found)?;
                let spec = svc.spec.unwrap_or_default();
                let port = spec
                    .ports
                    .unwrap_or_default()
                    .into_iter()
                    .find(|p| match &remote {
                        RemotePort::Number(n) => p.port == i32::from(*n),
                        RemotePort::Name(s) => p.name.as_deref() == Some(s.as_str()),
                    })
                    .ok_or_else(|| format!("service {name} in {ns} has no port {remote}"))?;
                pod_port = match port.target_port {
                    Some(IntOrString::Int(n)) => RemotePort::Number(u16::try_from(n).unwrap_or(0)),
                    Some(IntOrString::String(s)) => match s.parse::<u16>() {
                        Ok(n) => RemotePort::Number(n),
                        Err(_) => RemotePort::Name(s),
                    },
                    None => RemotePort::Number(u16::try_from(port.port).unwrap_or(0)),
                };
                let labels: BTreeMap<String, String> = spec.selector.unwrap_or_default();
                if labels.is_empty() {
                    return Err(format!(
                        "service {name} in {ns} has no selector, so no pods to forward to"
                    ));
                }
                let v = serde_json::to_value(&labels).unwrap_or_default();
                (Some(LabelSelector::from_map(&v)), format!("service {name}"))
            }
            TargetKind::Deployment => {
                let d = Api::<Deployment>::namespaced(client.clone(), &ns)
                    .get(&name)
                    .await
                    .map_err(not_found)?;
                (
                    selector_of(d.spec.map(|s| s.selector)),
                    format!("deployment {name}"),
                )
            }
            TargetKind::StatefulSet => {
                let d = Api::<StatefulSet>::namespaced(client.clone(), &ns)
                    .get(&name)
                    .await
                    .map_err(not_found)?;
                (
                    selector_of(d.spec.map(|s| s.selector)),
                    format!("statefulset {name}"),
                )
            }
            TargetKind::DaemonSet => {
                let d = Api::<DaemonSet>::namespaced(client.clone(), &ns)
                    .get(&name)
                    .await
                    .map_err(not_found)?;
                (
                    selector_of(d.spec.map(|s| s.selector)),
                    format!("daemonset {name}"),
                )
            }
            TargetKind::ReplicaSet => {
                let d = Api::<ReplicaSet>::namespaced(client.clone(), &ns)
                    .get(&name)
                    .await
                    .map_err(not_found)?;
                (
                    selector_of(d.spec.map(|s| s.selector)),
                    format!("replicaset {name}"),
                )
            }
        };
        if target.kind != TargetKind::Pod && selector.is_none() {
            return Err(format!(
                "{group} in {ns} has no selector, so no pods to forward to"
            ));
        }
        Ok(Resolver {
            client,
            target,
            pod_port,
            selector,
            group,
        })
    }

    /// Whether `backend` still serves: its pod exists with the same uid,
    /// runs and is not being deleted.
    pub(crate) async fn alive(&self, backend: &Backend) -> bool {
        let api = Api::<Pod>::namespaced(self.client.clone(), &self.target.namespace);
        match api.get_opt(&backend.pod).await {
            Ok(Some(p)) => p.metadata.uid.as_deref() == Some(backend.uid.as_str()) && serving(&p),
            Ok(None) => false,
            // Can't tell: keep it, the connection itself will say.
            Err(_) => true,
        }
    }

    /// The pod to forward to now. `gone` is a pod known dead, which is not
    /// chosen again even if it still shows.
    pub(crate) async fn resolve(&self, gone: Option<&str>) -> Result<Backend, String> {
        let ns = &self.target.namespace;
        let api = Api::<Pod>::namespaced(self.client.clone(), ns);
        let pod = match (&self.selector, self.target.kind) {
            (None, _) => {
                let pod = api.get_opt(&self.target.name).await.map_err(|e| {
                    format!(
                        "cannot read pod {} in {ns}: {}",
                        self.target.name,
                        api_message(e)
                    )
                })?;
                let named = self.target.name.as_str();
                match pod {
                    Some(p) if serving(&p) && gone != Some(named) => p,
                    Some(p) if p.metadata.deletion_timestamp.is_some() || gone == Some(named) => {
                        return Err(format!(
                            "pod {named} in {ns} is being deleted, and it has no controller to replace it"
                        ));
                    }
                    Some(p) => {
                        return Err(format!(
                            "pod {} in {ns} is not running ({}), and it has no controller to replace it",
                            self.target.name,
                            phase(&p)
                        ));
                    }
                    None => {
                        return Err(format!(
                            "pod {} in {ns} is gone, and it had no controller to replace it",
                            self.target.name
                        ));
                    }
                }
            }
            (Some(sel), _) => {
                let lp = ListParams::default().labels(&sel.to_string());
                let pods = api.list(&lp).await.map_err(|e| {
                    format!(
                        "cannot list the pods of {} in {ns}: {}",
                        self.group,
                        api_message(e)
                    )
                })?;
                let mut candidates: Vec<Pod> = pods
                    .items
                    .into_iter()
                    .filter(|p| serving(p) && p.metadata.name.as_deref() != gone)
                    .collect();
                // A pod target keeps its own pod while it serves.
                if self.target.kind == TargetKind::Pod
                    && let Some(own) = candidates
                        .iter()
                        .position(|p| p.metadata.name.as_deref() == Some(self.target.name.as_str()))
                {
                    candidates.swap(0, own);
                } else {
                    // Ready first, then the oldest: the steadiest choice.
                    candidates.sort_by_key(|p| {
                        (
                            !ready(p),
                            p.metadata.creation_timestamp.clone().map(|t| t.0),
                            p.metadata.name.clone(),
                        )
                    });
                }
                candidates.into_iter().next().ok_or_else(|| {
                    format!("no running pod of {} in {ns} to forward to", self.group)
                })?
            }
        };
        let name = pod.metadata.name.clone().unwrap_or_default();
        let port = container_port(&pod, &self.pod_port).ok_or_else(|| {
            format!(
                "pod {name} in {ns} has no container port named {}",
                self.pod_port
            )
        })?;
        Ok(Backend {
            pod: name,
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            port,
        })
    }
}

/// For a pod: the selector of its controller (ReplicaSet, StatefulSet,
/// DaemonSet, Job), which chooses its replacement.
async fn controller_selector(
    client: &Client,
    ns: &str,
    pod: &Pod,
) -> (Option<LabelSelector>, String) {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let Some(owner) = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
    else {
        return (None, format!("pod {name}"));
    };
    let to_sel = |v: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>| {
        let v = serde_json::to_value(v).unwrap_or_default();
        LabelSelector::from_object(&v)
            .ok()
            .filter(|s| !s.is_empty())
    };
    let selector = match owner.kind.as_str() {
        "ReplicaSet" => Api::<ReplicaSet>::namespaced(client.clone(), ns)
            .get(&owner.name)
            .await
            .ok()
            .and_then(|o| to_sel(o.spec.map(|s| s.selector))),
        "StatefulSet" => Api::<StatefulSet>::namespaced(client.clone(), ns)
            .get(&owner.name)
            .await
            .ok()
            .and_then(|o| to_sel(o.spec.map(|s| s.selector))),
        "DaemonSet" => Api::<DaemonSet>::namespaced(client.clone(), ns)
            .get(&owner.name)
            .await
            .ok()
            .and_then(|o| to_sel(o.spec.map(|s| s.selector))),
        "Job" => Api::<Job>::namespaced(client.clone(), ns)
            .get(&owner.name)
            .await
            .ok()
            .and_then(|o| to_sel(o.spec.and_then(|s| s.selector))),
        _ => None,
    };
    let group = format!("{} {}", owner.kind.to_ascii_lowercase(), owner.name);
    (selector, group)
}

fn target_words(t: &Target) -> String {
    let kind = match t.kind {
        TargetKind::Pod => "pod",
        TargetKind::Service => "service",
        TargetKind::Deployment => "deployment",
        TargetKind::StatefulSet => "statefulset",
        TargetKind::DaemonSet => "daemonset",
        TargetKind::ReplicaSet => "replicaset",
    };
    format!("{kind} {} in {}", t.name, t.namespace)
}

pub(crate) fn api_message(e: kube::Error) -> String {
    match e {
        kube::Error::Api(s) if !s.message.is_empty() => s.message,
        e => e.to_string(),
    }
}

fn phase(p: &Pod) -> String {
    p.status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Unknown".into())
}

/// Running and not being deleted: something there can answer.
fn serving(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_none() && phase(p) == "Running"
}

fn ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True")
}

/// The container port `want` means on `pod`: a number as is, a name
/// looked up in the container spec.
pub fn container_port(pod: &Pod, want: &RemotePort) -> Option<u16> {
    match want {
        RemotePort::Number(n) => Some(*n),
        RemotePort::Name(name) => pod
            .spec
            .as_ref()?
            .containers
            .iter()
            .flat_map(|c| c.ports.iter().flatten())
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .and_then(|p| u16::try_from(p.container_port).ok()),
    }
}

/// A remote port to offer for a target: its number and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub port: u16,
    pub label: String,
}

fn container_offers(spec: Option<&k8s_openapi::api::core::v1::PodSpec>) -> Vec<Offer> {
    spec.into_iter()
        .flat_map(|s| s.containers.iter())
        .flat_map(|c| {
            c.ports.iter().flatten().filter_map(move |p| {
                let port = u16::try_from(p.container_port).ok()?;
                let label = match &p.name {
                    Some(n) => format!("{n}, container {}", c.name),
                    None => format!("container {}", c.name),
                };
                Some(Offer { port, label })
            })
        })
        .collect()
}

/// The ports the target offers: a pod's or workload's container ports
/// from the spec, a Service's ports with the target port each maps to.
pub async fn offered_ports(client: &Client, target: &Target) -> Result<Vec<Offer>, String> {
    let (ns, name) = (target.namespace.as_str(), target.name.as_str());
    let read = |e: kube::Error| format!("cannot read {}: {}", target_words(target), api_message(e));
    let offers = match target.kind {
        TargetKind::Pod => {
            let p = Api::<Pod>::namespaced(client.clone(), ns)
                .get(name)
                .await
                .map_err(read)?;
            container_offers(p.spec.as_ref())
        }
        TargetKind::Service => {
            let s = Api::<Service>::namespaced(client.clone(), ns)
                .get(name)
                .await
                .map_err(read)?;
            s.spec
                .and_then(|s| s.ports)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|p| {
                    let port = u16::try_from(p.port).ok()?;
                    let to = match &p.target_port {
                        Some(IntOrString::Int(n)) => n.to_string(),
                        Some(IntOrString::String(s)) => s.clone(),
                        None => port.to_string(),
                    };
                    let label = match &p.name {
                        Some(n) => format!("{n}, to pod port {to}"),
                        None => format!("to pod port {to}"),
                    };
                    Some(Offer { port, label })
                })
                .collect()
        }
        TargetKind::Deployment => {
            let d = Api::<Deployment>::namespaced(client.clone(), ns)
                .get(name)
                .await
                .map_err(read)?;
            container_offers(d.spec.and_then(|s| s.template.spec).as_ref())
        }
        TargetKind::StatefulSet => {
            let d = Api::<StatefulSet>::namespaced(client.clone(), ns)
                .get(name)
                .await
                .map_err(read)?;
            container_offers(d.spec.and_then(|s| s.template.spec).as_ref())
        }
        TargetKind::DaemonSet => {
            let d = Api::<DaemonSet>::namespaced(client.clone(), ns)
                .get(name)
                .await
                .map_err(read)?;
            container_offers(d.spec.and_then(|s| s.template.spec).as_ref())
        }
        TargetKind::ReplicaSet => {
            let d = Api::<ReplicaSet>::namespaced(client.clone(), ns)
                .get(name)
                .await
                .map_err(read)?;
            container_offers(
                d.spec
                    .and_then(|s| s.template)
                    .and_then(|t| t.spec)
                    .as_ref(),
            )
        }
    };
    Ok(offers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_as_kubectl_takes_them() {
        let t = Target::parse("svc/web", "demo").unwrap();
        assert_eq!((t.kind, t.name.as_str()), (TargetKind::Service, "web"));
        assert_eq!(t.object(), "svc/web");
        assert_eq!(
            Target::parse("web-1", "demo").unwrap().kind,
            TargetKind::Pod
        );
        assert_eq!(
            Target::parse("deployment/web", "demo").unwrap().kind,
            TargetKind::Deployment
        );
        assert!(Target::parse("cm/x", "demo").is_err());
        assert!(Target::parse("svc/", "demo").is_err());
    }

    #[test]
    fn port_specs_parse_as_kubectl_takes_them() {
        let p = |s| PortSpec::parse(s).unwrap();
        assert_eq!(
            p("8080:80"),
            PortSpec {
                local: 8080,
                remote: RemotePort::Number(80)
            }
        );
        assert_eq!(
            p("80"),
            PortSpec {
                local: 0,
                remote: RemotePort::Number(80)
            }
        );
        assert_eq!(
            p(":80"),
            PortSpec {
                local: 0,
                remote: RemotePort::Number(80)
            }
        );
        assert_eq!(
            p("0:80"),
            PortSpec {
                local: 0,
                remote: RemotePort::Number(80)
            }
        );
        assert_eq!(
            p("9000:http"),
            PortSpec {
                local: 9000,
                remote: RemotePort::Name("http".into())
            }
        );
        assert_eq!(
            p("http"),
            PortSpec {
                local: 0,
                remote: RemotePort::Name("http".into())
            }
        );
        assert!(PortSpec::parse("x:80").is_err());
        assert!(PortSpec::parse("8080:0").is_err());
        assert!(PortSpec::parse("8080:Not_A_Name").is_err());
    }
}
