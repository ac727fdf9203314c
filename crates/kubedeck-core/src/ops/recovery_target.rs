//! What a recovery test is asked to do and what it finds before it starts:
//! the kill mode, the spec, the workload with its pods and Services, and
//! whether it is in its steady state.

use std::fmt::Debug;
use std::time::Duration;

use anyhow::{Context as _, bail};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ListParams};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::recovery::{PodView, SERVICE_NAME_LABEL};
use crate::actions::{WorkloadKind, WorkloadRef};
use kubedeck_kube::duration::human;
use kubedeck_kube::selector::LabelSelector;

/// Which pods each iteration kills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillMode {
    /// One pod, chosen at random.
    One,
    Count(u32),
    /// A percentage of the live pods, rounded up.
    Percent(u32),
    All,
}

impl KillMode {
    /// How many of `live` pods are killed: at least one when there is one.
    pub(crate) fn victims(self, live: usize) -> usize {
        let n = match self {
            KillMode::One => 1,
            KillMode::Count(n) => usize::try_from(n).unwrap_or(usize::MAX),
            KillMode::Percent(p) => (live * usize::try_from(p).unwrap_or(100))
                .div_ceil(100)
                .max(1),
            KillMode::All => live,
        };
        n.min(live)
    }

    pub fn describe(self) -> String {
        match self {
            KillMode::One => "1 random pod".into(),
            KillMode::Count(1) => "1 pod".into(),
            KillMode::Count(n) => format!("{n} pods"),
            KillMode::Percent(p) => format!("{p}% of the pods"),
            KillMode::All => "all pods".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct TestSpec {
    pub target: WorkloadRef,
    pub mode: KillMode,
    /// Grace period 0 instead of the pod's own.
    pub force: bool,
    pub iterations: u32,
    /// Pause between one iteration's recovery and the next kill.
    pub interval: Duration,
    /// Each kill must be serving again within this.
    pub slo: Duration,
    pub min_endpoints: u32,
    /// Stop the test when the Service has had no Ready endpoint this long.
    pub abort_after: Duration,
    /// How long to wait for one iteration's recovery.
    pub recovery_timeout: Duration,
    /// Kill even when the steady state does not hold; the override is
    /// audited.
    pub skip_steady_state_check: bool,
}

impl TestSpec {
    /// The defaults: one pod, once, SLO 30 s, at least one endpoint.
    pub fn new(target: WorkloadRef) -> TestSpec {
        TestSpec {
            target,
            mode: KillMode::One,
            force: false,
            iterations: 1,
            interval: Duration::from_secs(10),
            slo: Duration::from_secs(30),
            min_endpoints: 1,
            abort_after: Duration::from_secs(60),
            recovery_timeout: Duration::from_secs(120),
            skip_steady_state_check: false,
        }
    }
}

/// A pod as the plan shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodBrief {
    pub name: String,
    pub ready: bool,
}

/// The workload as found before the test: what the confirmation shows.
#[derive(Debug, Clone)]
pub struct RecoveryTarget {
    pub workload: WorkloadRef,
    /// The workload's pod selector, as a label selector string.
    pub selector: String,
    /// Services selecting the workload's pods.
    pub services: Vec<String>,
    /// Live (not terminating) pods.
    pub pods: Vec<PodBrief>,
    /// The replicas the workload asks for.
    pub desired: usize,
    /// What a rollout in progress is still waiting for.
    pub rollout: Option<String>,
    /// Each Service's Ready endpoints.
    pub endpoints: Vec<(String, usize)>,
}

impl RecoveryTarget {
    pub fn object(&self) -> String {
        format!("{}/{}", self.workload.kind.singular(), self.workload.name)
    }

    /// Why the workload was not in its steady state when inspected; empty
    /// when it was. The test waits for it before the first kill.
    pub fn unsteady(&self, min_endpoints: u32) -> Vec<String> {
        steady_state_problems(
            &Observed {
                rollout: self.rollout.clone(),
                desired: self.desired,
                pods: &self.pods,
                endpoints: &self.endpoints,
            },
            min_endpoints,
        )
    }

    /// The plan, in the operator's terms, for the confirmation prompt.
    pub fn plan_lines(&self, spec: &TestSpec) -> Vec<String> {
        let live = self.pods.len();
        let ready = self.pods.iter().filter(|p| p.ready).count();
        let n = spec.mode.victims(live);
        let how = if spec.force {
            "forced (grace period 0)"
        } else {
            "graceful"
        };
        let times = if spec.iterations == 1 {
            "once".to_string()
        } else {
            format!("{} times, {} apart", spec.iterations, human(spec.interval))
        };
        let mut out = vec![format!(
            "Kill {} ({n} of {live}) of {} in namespace {}, {how}, {times}",
            spec.mode.describe(),
            self.object(),
            self.workload.namespace
        )];
        if self.services.is_empty() {
            out.push(format!(
                "no Service selects these pods: Ready pods are counted instead of endpoints ({ready} now, as low as {} during a kill)",
                ready.saturating_sub(n)
            ));
        } else {
            for s in &self.services {
                out.push(format!(
                    "service {s}: {ready} Ready endpoints now, as low as {} during a kill",
                    ready.saturating_sub(n)
                ));
            }
        }
        out.push(format!(
            "pass: each pod serving again within {}, never fewer than {} Ready endpoints; abort after {} with none",
            human(spec.slo),
            spec.min_endpoints,
            human(spec.abort_after)
        ));
        let unsteady = self.unsteady(spec.min_endpoints);
        out.push(match (unsteady.is_empty(), spec.skip_steady_state_check) {
            (true, _) => format!(
                "steady state holds: every replica Ready, at least {} Ready endpoints, no rollout in progress (checked again before the first kill)",
                spec.min_endpoints
            ),
            (false, false) => format!(
                "steady state does not hold now: {}; the test waits up to {} for it, else kills nothing",
                unsteady.join("; "),
                human(super::recovery::STEADY_WAIT)
            ),
            (false, true) => format!(
                "steady state does not hold: {}; killing anyway (--skip-steady-state-check, audited)",
                unsteady.join("; ")
            ),
        });
        out.push("each delete goes through the action log as delete-pod".into());
        out
    }
}

/// Reads the workload, its selector, its pods and the Services in front of it.
pub async fn inspect(client: &Client, workload: &WorkloadRef) -> anyhow::Result<RecoveryTarget> {
    let ns = &workload.namespace;
    let object = format!("{}/{}", workload.kind.singular(), workload.name);
    let obj = read_workload(client, workload).await?;
    let selector = LabelSelector::from_object(&obj["spec"]["selector"])
        .map_err(|e| anyhow::anyhow!("{object} has an invalid selector: {e}"))?;
    if selector.is_empty() {
        bail!("{object} has an empty selector: refusing to kill every pod of the namespace");
    }
    let labels = &obj["spec"]["template"]["metadata"]["labels"];
    let pods = Api::<Pod>::namespaced(client.clone(), ns)
        .list(&ListParams::default().labels(&selector.to_string()))
        .await
        .with_context(|| format!("cannot list the pods of {object}"))?;
    let services = Api::<Service>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await
        .with_context(|| format!("cannot list the Services of namespace {ns}"))?;
    let services: Vec<String> = services
        .items
        .iter()
        .filter_map(|s| {
            let sel = s.spec.as_ref()?.selector.as_ref()?;
            let sel = LabelSelector::from_map(&serde_json::to_value(sel).ok()?);
            (!sel.is_empty() && sel.matches(labels)).then(|| s.metadata.name.clone())?
        })
        .collect();
    let endpoints = ready_endpoints(client, ns, &services).await?;
    let pods: Vec<PodBrief> = pods
        .items
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(|p| PodBrief {
            name: p.metadata.name.clone().unwrap_or_default(),
            ready: PodView::of(p).ready,
        })
        .collect();
    Ok(RecoveryTarget {
        workload: workload.clone(),
        selector: selector.to_string(),
        services,
        pods,
        desired: desired_replicas(&obj),
        rollout: rollout_in_progress(&obj, workload.kind),
        endpoints,
    })
}

/// Each Service's count of Ready endpoints.
async fn ready_endpoints(
    client: &Client,
    ns: &str,
    services: &[String],
) -> anyhow::Result<Vec<(String, usize)>> {
    if services.is_empty() {
        return Ok(Vec::new());
    }
    let sel = format!("{SERVICE_NAME_LABEL} in ({})", services.join(","));
    let slices = Api::<EndpointSlice>::namespaced(client.clone(), ns)
        .list(&ListParams::default().labels(&sel))
        .await
        .with_context(|| format!("cannot list the endpoints of {}", services.join(", ")))?;
    Ok(services
        .iter()
        .map(|svc| {
            let names: std::collections::HashSet<String> = slices
                .items
                .iter()
                .filter(|s| {
                    s.metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(SERVICE_NAME_LABEL))
                        == Some(svc)
                })
                .flat_map(super::recovery::ready_endpoint_names)
                .collect();
            (svc.clone(), names.len())
        })
        .collect())
}

/// What the steady state is judged on.
pub(super) struct Observed<'a> {
    /// What a rollout in progress is still waiting for.
    pub rollout: Option<String>,
    /// The replicas the workload asks for.
    pub desired: usize,
    /// Its live (not terminating) pods.
    pub pods: &'a [PodBrief],
    /// Each Service's Ready endpoints; empty when no Service selects the
    /// pods, and then Ready pods count instead.
    pub endpoints: &'a [(String, usize)],
}

/// `spec.replicas`, which defaults to 1.
pub(super) fn desired_replicas(workload: &Value) -> usize {
    usize::try_from(workload["spec"]["replicas"].as_i64().unwrap_or(1)).unwrap_or(0)
}

/// Why the workload is not in its steady state, as chaos tools' steady-state
/// hypotheses have it: every replica Ready, at least `min_endpoints` Ready
/// endpoints in each Service, no rollout in progress. Empty when it holds.
pub(super) fn steady_state_problems(o: &Observed<'_>, min_endpoints: u32) -> Vec<String> {
    let mut out: Vec<String> = o.rollout.iter().cloned().collect();
    let desired = o.desired;
    let ready = o.pods.iter().filter(|p| p.ready).count();
    let not_ready: Vec<&str> = o
        .pods
        .iter()
        .filter(|p| !p.ready)
        .map(|p| p.name.as_str())
        .collect();
    if ready < desired || !not_ready.is_empty() {
        let mut line = if o.pods.len() > desired {
            format!(
                "{} pods for {desired} replicas, {ready} Ready",
                o.pods.len()
            )
        } else {
            format!("{ready} of {desired} replicas Ready")
        };
        if !not_ready.is_empty() {
            line.push_str(&format!(" (not Ready: {})", not_ready.join(", ")));
        }
        out.push(line);
    }
    let min = usize::try_from(min_endpoints).unwrap_or(usize::MAX);
    if o.endpoints.is_empty() {
        if ready < min {
            out.push(format!(
                "{ready} Ready pods (no Service selects them), under the minimum of {min_endpoints}"
            ));
        }
    } else {
        for (service, n) in o.endpoints {
            if *n < min {
                out.push(format!(
                    "service {service} has {n} Ready endpoints, under the minimum of {min_endpoints}"
                ));
            }
        }
    }
    out
}

/// What `kubectl rollout status` would still be waiting for, if anything.
pub(super) fn rollout_in_progress(w: &Value, kind: WorkloadKind) -> Option<String> {
    let object = format!(
        "{}/{}",
        kind.singular(),
        w["metadata"]["name"].as_str().unwrap_or_default()
    );
    let int = |v: &Value| v.as_i64().unwrap_or(0);
    let status = &w["status"];
    let generation = int(&w["metadata"]["generation"]);
    if int(&status["observedGeneration"]) < generation {
        return Some(format!(
            "a rollout of {object} is in progress: its controller has not yet seen generation {generation}"
        ));
    }
    let desired = w["spec"]["replicas"].as_i64().unwrap_or(1);
    match kind {
        WorkloadKind::Deployment => {
            let stalled = status["conditions"].as_array().is_some_and(|cs| {
                cs.iter().any(|c| {
                    c["type"] == "Progressing" && c["reason"] == "ProgressDeadlineExceeded"
                })
            });
            let updated = int(&status["updatedReplicas"]);
            let total = int(&status["replicas"]);
            let available = int(&status["availableReplicas"]);
            if stalled {
                Some(format!(
                    "the rollout of {object} has exceeded its progress deadline"
                ))
            } else if updated < desired {
                Some(format!(
                    "a rollout of {object} is in progress: {updated} of {desired} new replicas updated"
                ))
            } else if total > updated {
                Some(format!(
                    "a rollout of {object} is in progress: {} old replicas pending termination",
                    total - updated
                ))
            } else if available < updated {
                Some(format!(
                    "a rollout of {object} is in progress: {available} of {updated} updated replicas available"
                ))
            } else {
                None
            }
        }
        WorkloadKind::StatefulSet => {
            if w["spec"]["updateStrategy"]["type"].as_str() == Some("OnDelete") {
                return None;
            }
            let partition = int(&w["spec"]["updateStrategy"]["rollingUpdate"]["partition"]);
            let updated = int(&status["updatedReplicas"]);
            let (current, update) = (
                status["currentRevision"].as_str(),
                status["updateRevision"].as_str(),
            );
            if partition > 0 {
                let want = (desired - partition).max(0);
                (updated < want).then(|| {
                    format!(
                        "a partitioned rollout of {object} is in progress: {updated} of {want} pods updated"
                    )
                })
            } else if update.is_some() && current != update {
                Some(format!(
                    "a rolling update of {object} is in progress: {updated} of {desired} pods at the new revision"
                ))
            } else {
                None
            }
        }
    }
}

/// The Deployment or StatefulSet, as JSON.
pub(super) async fn read_workload(
    client: &Client,
    workload: &WorkloadRef,
) -> anyhow::Result<Value> {
    let ns = &workload.namespace;
    match workload.kind {
        WorkloadKind::Deployment => {
            get_value(
                Api::<Deployment>::namespaced(client.clone(), ns),
                &workload.name,
            )
            .await
        }
        WorkloadKind::StatefulSet => {
            get_value(
                Api::<StatefulSet>::namespaced(client.clone(), ns),
                &workload.name,
            )
            .await
        }
    }
    .with_context(|| {
        format!(
            "cannot read {}/{} in namespace {ns}",
            workload.kind.singular(),
            workload.name
        )
    })
}

async fn get_value<K>(api: Api<K>, name: &str) -> anyhow::Result<Value>
where
    K: Resource + Clone + DeserializeOwned + serde::Serialize + Debug,
{
    let obj = api.get(name).await?;
    Ok(serde_json::to_value(obj)?)
}
/// The test refused to start: the workload was not in its steady state,
/// so killing a pod would have been an outage of the test's making.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotSteady {
    /// `deployment/web`.
    pub object: String,
    pub namespace: String,
    /// How long the test waited for the steady state.
    pub waited: Duration,
    /// What did not hold at the end of the wait.
    pub problems: Vec<String>,
}

impl std::fmt::Display for NotSteady {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "refused: {} in {} was not in its steady state within {}, so nothing was killed: {}. Wait until it is, or override with --skip-steady-state-check (audited)",
            self.object,
            self.namespace,
            human(self.waited),
            self.problems.join("; ")
        )
    }
}

impl std::error::Error for NotSteady {}
