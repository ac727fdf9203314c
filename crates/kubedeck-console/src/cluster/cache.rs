//! Reflector stores for every kind the console shows.

use k8s_openapi::api::apps::v1::{DaemonSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Endpoints, Namespace, Node, Service};
use kube::runtime::reflector::{self, Store, store::Writer};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::slim_event::SlimEvent;
use super::slim_pod::SlimPod;
use super::slim_workload::{SlimDeployment, SlimReplicaSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Namespace,
    Node,
    Pod,
    Service,
    Endpoints,
    /// Every event, Normal ones too: watched only while a screen reads them.
    Event,
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    Hpa,
    Job,
    CronJob,
    /// The resource a generic view browses, whichever it is.
    Resource,
    /// Warning events, always watched (`fieldSelector=type=Warning`).
    Warning,
}

impl Kind {
    pub const ALL: [Kind; 15] = [
        Kind::Namespace,
        Kind::Node,
        Kind::Pod,
        Kind::Service,
        Kind::Endpoints,
        Kind::Event,
        Kind::Deployment,
        Kind::ReplicaSet,
        Kind::StatefulSet,
        Kind::DaemonSet,
        Kind::Hpa,
        Kind::Job,
        Kind::CronJob,
        Kind::Resource,
        Kind::Warning,
    ];

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    pub(crate) fn plural(self) -> &'static str {
        match self {
            Kind::Namespace => "namespaces",
            Kind::Node => "nodes",
            Kind::Pod => "pods",
            Kind::Service => "services",
            Kind::Endpoints => "endpoints",
            Kind::Event => "events",
            Kind::Deployment => "deployments",
            Kind::ReplicaSet => "replicasets",
            Kind::StatefulSet => "statefulsets",
            Kind::DaemonSet => "daemonsets",
            Kind::Hpa => "horizontalpodautoscalers",
            Kind::Job => "jobs",
            Kind::CronJob => "cronjobs",
            Kind::Resource => "resources",
            Kind::Warning => "warning events",
        }
    }
}

/// The kinds whose first list is still coming in, page by page: their
/// stores show what arrived, and their counts are not yet the cluster's.
#[derive(Default)]
pub(crate) struct Loading([AtomicBool; Kind::ALL.len()]);

impl Loading {
    pub(crate) fn set(&self, kind: Kind, loading: bool) {
        self.0[kind.index()].store(loading, Ordering::Release);
    }

    pub(crate) fn get(&self, kind: Kind) -> bool {
        self.0[kind.index()].load(Ordering::Acquire)
    }
}

/// Read handles of every watch's store, and nothing else: what no watch
/// delivers (metrics, settings) is the UI loop's own. Cheap to clone;
/// reading never blocks on the network.
#[derive(Clone)]
pub struct Cache {
    pub(crate) namespaces: Store<Namespace>,
    pub(crate) nodes: Store<Node>,
    pub(crate) pods: Store<SlimPod>,
    pub(crate) services: Store<Service>,
    pub(crate) endpoints: Store<Endpoints>,
    /// Warning events, always watched: all the overview reads.
    pub(crate) warnings: Store<SlimEvent>,
    /// Every event, while a screen reads Normal events too (the events
    /// view, describe, an HPA's reasons, a backup run); None otherwise, so
    /// the many Normal events of a large cluster are not held for nothing.
    pub(crate) all_events: Option<AllEvents>,
    pub(crate) deployments: Store<SlimDeployment>,
    pub(crate) replicasets: Store<SlimReplicaSet>,
    pub(crate) statefulsets: Store<StatefulSet>,
    pub(crate) daemonsets: Store<DaemonSet>,
    pub(crate) hpas: Store<HorizontalPodAutoscaler>,
    pub(crate) jobs: Store<Job>,
    pub(crate) cronjobs: Store<CronJob>,
    /// The resource a generic view browses, while one is open.
    pub browse: super::browse::BrowseSlot,
    pub(crate) loading: Arc<Loading>,
}

/// The store of every event and its watch's loading mark, both new for
/// each start of that watch, so a stopped one can mark neither.
#[derive(Clone)]
pub(crate) struct AllEvents {
    pub(crate) store: Store<SlimEvent>,
    pub(crate) loading: Arc<Loading>,
}

impl AllEvents {
    /// An empty store, loading until its watch's first list is in.
    pub(crate) fn new() -> (AllEvents, Writer<SlimEvent>) {
        let (store, writer) = reflector::store();
        let loading = Arc::new(Loading::default());
        loading.set(Kind::Event, true);
        (AllEvents { store, loading }, writer)
    }
}

impl Cache {
    /// Whether the kind's first list is still coming in; every event is
    /// loading from before its watch starts until its first list is in.
    pub(crate) fn loading(&self, kind: Kind) -> bool {
        match (kind, &self.all_events) {
            (Kind::Event, None) => true,
            (Kind::Event, Some(all)) => all.loading.get(Kind::Event),
            _ => self.loading.get(kind),
        }
    }

    /// The events the views read: every event while that watch runs, else
    /// the warnings alone.
    pub(crate) fn events(&self) -> &Store<SlimEvent> {
        self.all_events
            .as_ref()
            .map_or(&self.warnings, |all| &all.store)
    }
}

/// The write halves, handed to the watchers.
pub struct Writers {
    pub(crate) namespaces: Writer<Namespace>,
    pub(crate) nodes: Writer<Node>,
    pub(crate) pods: Writer<SlimPod>,
    pub(crate) services: Writer<Service>,
    pub(crate) endpoints: Writer<Endpoints>,
    pub(crate) warnings: Writer<SlimEvent>,
    /// Only in tests' and benchmarks' caches (`with_all_events`); the
    /// console's own starts with its watch (`watch::spawn_events`).
    pub(crate) all_events: Option<Writer<SlimEvent>>,
    pub(crate) deployments: Writer<SlimDeployment>,
    pub(crate) replicasets: Writer<SlimReplicaSet>,
    pub(crate) statefulsets: Writer<StatefulSet>,
    pub(crate) daemonsets: Writer<DaemonSet>,
    pub(crate) hpas: Writer<HorizontalPodAutoscaler>,
    pub(crate) jobs: Writer<Job>,
    pub(crate) cronjobs: Writer<CronJob>,
    pub(crate) loading: Arc<Loading>,
}

/// The stores as the console starts: every event is not among them.
pub fn new() -> (Cache, Writers) {
    let (namespaces, w_namespaces) = reflector::store();
    let (nodes, w_nodes) = reflector::store();
    let (pods, w_pods) = reflector::store();
    let (services, w_services) = reflector::store();
    let (endpoints, w_endpoints) = reflector::store();
    let (warnings, w_warnings) = reflector::store();
    let (deployments, w_deployments) = reflector::store();
    let (replicasets, w_replicasets) = reflector::store();
    let (statefulsets, w_statefulsets) = reflector::store();
    let (daemonsets, w_daemonsets) = reflector::store();
    let (hpas, w_hpas) = reflector::store();
    let (jobs, w_jobs) = reflector::store();
    let (cronjobs, w_cronjobs) = reflector::store();
    let loading = Arc::new(Loading::default());
    (
        Cache {
            namespaces,
            nodes,
            pods,
            services,
            endpoints,
            warnings,
            all_events: None,
            deployments,
            replicasets,
            statefulsets,
            daemonsets,
            hpas,
            jobs,
            cronjobs,
            browse: super::browse::BrowseSlot::default(),
            loading: loading.clone(),
        },
        Writers {
            namespaces: w_namespaces,
            nodes: w_nodes,
            pods: w_pods,
            services: w_services,
            endpoints: w_endpoints,
            warnings: w_warnings,
            all_events: None,
            deployments: w_deployments,
            replicasets: w_replicasets,
            statefulsets: w_statefulsets,
            daemonsets: w_daemonsets,
            hpas: w_hpas,
            jobs: w_jobs,
            cronjobs: w_cronjobs,
            loading,
        },
    )
}

/// As `new`, with every event's store too, its first list done: the
/// cache of a console showing events, for tests and benchmarks.
pub fn with_all_events() -> (Cache, Writers) {
    let (mut cache, mut writers) = new();
    let (all, writer) = AllEvents::new();
    all.loading.set(Kind::Event, false);
    cache.all_events = Some(all);
    writers.all_events = Some(writer);
    (cache, writers)
}

impl Writers {
    /// Puts one object (as the API serves it) into its store; for filling a
    /// cache from a simulator's store in tests and benchmarks.
    pub fn apply_json(&mut self, obj: &serde_json::Value) -> Result<(), String> {
        use kube::runtime::watcher::Event;
        fn put<K>(w: &mut Writer<K>, obj: &serde_json::Value) -> Result<(), String>
        where
            K: kube::Resource + Clone + serde::de::DeserializeOwned,
            K::DynamicType: Eq + std::hash::Hash + Clone,
        {
            let typed: K = serde_json::from_value(obj.clone()).map_err(|e| e.to_string())?;
            w.apply_watcher_event(&Event::Apply(typed));
            Ok(())
        }
        match obj["kind"].as_str().unwrap_or("") {
            "Namespace" => put(&mut self.namespaces, obj),
            "Node" => put(&mut self.nodes, obj),
            "Pod" => put(&mut self.pods, obj),
            "Service" => put(&mut self.services, obj),
            "Endpoints" => put(&mut self.endpoints, obj),
            "Event" => {
                if obj["type"] == "Warning" {
                    put(&mut self.warnings, obj)?;
                }
                match &mut self.all_events {
                    Some(w) => put(w, obj),
                    None => Ok(()),
                }
            }
            "Deployment" => put(&mut self.deployments, obj),
            "ReplicaSet" => put(&mut self.replicasets, obj),
            "StatefulSet" => put(&mut self.statefulsets, obj),
            "DaemonSet" => put(&mut self.daemonsets, obj),
            "HorizontalPodAutoscaler" => put(&mut self.hpas, obj),
            "Job" => put(&mut self.jobs, obj),
            "CronJob" => put(&mut self.cronjobs, obj),
            other => Err(format!("the console does not cache {other:?}")),
        }
    }
}
