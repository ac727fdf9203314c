//! What a recovery test is asked to do and what it finds before it starts:
//! the kill mode, the spec, and the workload with its pods and Services.

use std::fmt::Debug;
use std::time::Duration;

use anyhow::{Context as _, bail};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::api::{Api, ListParams};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::recovery::PodView;
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
}

impl RecoveryTarget {
    pub fn object(&self) -> String {
        format!("{}/{}", self.workload.kind.singular(), self.workload.name)
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
        out.push("each delete goes through the action log as delete-pod".into());
        out
    }
}

/// Reads the workload, its selector, its pods and the Services in front of it.
pub async fn inspect(client: &Client, workload: &WorkloadRef) -> anyhow::Result<RecoveryTarget> {
    let ns = &workload.namespace;
    let object = format!("{}/{}", workload.kind.singular(), workload.name);
    let obj = match workload.kind {
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
    .with_context(|| format!("cannot read {object} in namespace {ns}"))?;
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
    let services = services
        .items
        .iter()
        .filter_map(|s| {
            let sel = s.spec.as_ref()?.selector.as_ref()?;
            let sel = LabelSelector::from_map(&serde_json::to_value(sel).ok()?);
            (!sel.is_empty() && sel.matches(labels)).then(|| s.metadata.name.clone())?
        })
        .collect();
    Ok(RecoveryTarget {
        workload: workload.clone(),
        selector: selector.to_string(),
        services,
        pods: pods
            .items
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .map(|p| PodBrief {
                name: p.metadata.name.clone().unwrap_or_default(),
                ready: PodView::of(p).ready,
            })
            .collect(),
    })
}

async fn get_value<K>(api: Api<K>, name: &str) -> anyhow::Result<Value>
where
    K: Resource + Clone + DeserializeOwned + serde::Serialize + Debug,
{
    let obj = api.get(name).await?;
    Ok(serde_json::to_value(obj)?)
}
