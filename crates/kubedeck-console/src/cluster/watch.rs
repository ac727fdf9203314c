//! Watchers: one list-and-watch loop per kind, reflected into the cache.
//! A burst of changes becomes one message: a kind's flag is raised with the
//! first change and the UI loop lowers it when it takes the message. A
//! session that ends in trouble is followed by a fresh list, after a
//! back-off and the connection's pacer; an outage is reported once, and
//! the next complete list ends it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kube::runtime::reflector::store::Writer;
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::Notify;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use super::cache::{AllEvents, Kind, Loading, Writers};
use super::retry::{Backoff, Pacer};
use super::session::{self, Progress, Trouble};

/// What the watchers tell the UI loop.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchMsg {
    /// Something of this kind changed; read the cache.
    Changed(Kind),
    /// A complete list of this kind has arrived: the first, or the one that
    /// ends an outage and replaces the cache.
    Synced(Kind),
    /// The server refused the watch; it retries with back-off, the cache
    /// keeps its data.
    Failed(Kind, String),
    /// The API server does not answer this kind's watch (no answer in time,
    /// connections broken, server errors); it retries, the cache keeps its data.
    Unreachable(Kind, String),
    /// The server's resource list, from discovery, or why there is none.
    Discovered(Result<Arc<[super::discovery::ResourceInfo]>, String>),
    /// How long the API server took to answer a watch request (the
    /// namespaces' only, one sample per watch window).
    Latency(Duration),
}

/// One raised-or-not flag per kind: whether a `Changed` is already on its way.
#[derive(Default)]
pub struct Pending([AtomicBool; Kind::ALL.len()]);

impl Pending {
    /// Lowers the kind's flag; the UI loop calls it when it takes a `Changed`.
    pub fn take(&self, kind: Kind) {
        self.0[kind.index()].store(false, Ordering::Release);
    }

    pub(crate) fn raise(&self, kind: Kind) -> bool {
        !self.0[kind.index()].swap(true, Ordering::AcqRel)
    }
}

/// What the watch drops before an object enters the store: what no view
/// reads. Every kind drops the server-side apply bookkeeping; the numerous
/// kinds drop more (their impls say what). Each dropped string is one
/// allocation less per object, kept as long as the object is.
pub(crate) trait Trim: Resource {
    fn trim(&mut self) {
        self.meta_mut().managed_fields = None;
    }
}

macro_rules! trim_metadata_only {
    ($($ty:ty),*) => {$(impl Trim for $ty {})*};
}
trim_metadata_only!(
    k8s_openapi::api::core::v1::Namespace,
    k8s_openapi::api::core::v1::Node,
    k8s_openapi::api::core::v1::Service,
    k8s_openapi::api::core::v1::Endpoints,
    k8s_openapi::api::apps::v1::StatefulSet,
    k8s_openapi::api::apps::v1::DaemonSet,
    k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler,
    k8s_openapi::api::batch::v1::Job,
    k8s_openapi::api::batch::v1::CronJob
);

/// The browser keeps metadata only: a resource's data can be large, and a
/// Secret's values must not be held. The last-applied annotation is a copy
/// of the whole object (a Secret's data with it), so it goes too.
impl Trim for kube::core::DynamicObject {
    fn trim(&mut self) {
        self.data = serde_json::Value::Null;
        let meta = self.meta_mut();
        meta.managed_fields = None;
        if let Some(a) = meta.annotations.as_mut() {
            a.remove("kubectl.kubernetes.io/last-applied-configuration");
            if a.is_empty() {
                meta.annotations = None;
            }
        }
    }
}

/// The least time between two (re)connects of one connection's watches.
const PACE: Duration = Duration::from_millis(100);

/// Watches the browsed resource as `Kind::Resource`; `changed` is told of
/// every list and change, for the Table fetcher.
pub(crate) fn spawn_browse(
    api: Api<kube::core::DynamicObject>,
    writer: Writer<kube::core::DynamicObject>,
    tx: UnboundedSender<WatchMsg>,
    pending: Arc<Pending>,
    loading: Arc<Loading>,
    changed: Arc<Notify>,
) -> JoinHandle<()> {
    let pacer = Arc::new(Pacer::new(PACE));
    spawn_watch(
        api,
        "",
        writer,
        Kind::Resource,
        tx,
        pending,
        pacer,
        loading,
        Some(changed),
    )
}

#[allow(
    clippy::too_many_arguments,
    reason = "one watch's parts, each from its caller"
)]
fn spawn_one<K>(
    api: Api<K>,
    fields: &'static str,
    writer: Writer<K>,
    kind: Kind,
    tx: UnboundedSender<WatchMsg>,
    pending: Arc<Pending>,
    pacer: Arc<Pacer>,
    loading: Arc<Loading>,
) -> JoinHandle<()>
where
    K: Trim + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone + Send + Sync,
{
    spawn_watch(api, fields, writer, kind, tx, pending, pacer, loading, None)
}

#[allow(
    clippy::too_many_arguments,
    reason = "one watch's parts, each from its caller"
)]
fn spawn_watch<K>(
    api: Api<K>,
    fields: &'static str,
    mut writer: Writer<K>,
    kind: Kind,
    tx: UnboundedSender<WatchMsg>,
    pending: Arc<Pending>,
    pacer: Arc<Pacer>,
    loading: Arc<Loading>,
    changed: Option<Arc<Notify>>,
) -> JoinHandle<()>
where
    K: Trim + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone + Send + Sync,
{
    tokio::spawn(async move {
        let plural = kind.plural();
        let mut backoff = Backoff::new(kind.index() as u64 + 1);
        // The outage reported: Some(true) unreachable, Some(false) refused.
        let mut reported: Option<bool> = None;
        loop {
            let trouble = session::run(&api, fields, &mut writer, |p| {
                if let Some(c) = changed.as_ref().filter(|_| p != Progress::Alive) {
                    c.notify_one();
                }
                let msg = match p {
                    Progress::Page(_) => {
                        loading.set(kind, true);
                        pending.raise(kind).then_some(WatchMsg::Changed(kind))
                    }
                    Progress::Listed(n) => {
                        loading.set(kind, false);
                        let how = if reported.take().is_some() {
                            "resynced"
                        } else {
                            "synced"
                        };
                        tracing::info!("watch of {plural} {how}: {n} listed");
                        Some(WatchMsg::Synced(kind))
                    }
                    Progress::Changed => {
                        backoff.reset();
                        pending.raise(kind).then_some(WatchMsg::Changed(kind))
                    }
                    Progress::Alive => {
                        backoff.reset();
                        None
                    }
                    Progress::Answered(d) => {
                        (kind == Kind::Namespace).then_some(WatchMsg::Latency(d))
                    }
                };
                msg.is_none_or(|m| tx.send(m).is_ok())
            })
            .await;
            let msg = match trouble {
                None => return,
                Some(Trouble::Desync(why) | Trouble::Broken(why)) => {
                    tracing::info!("watch of {plural} must relist: {why}");
                    None
                }
                Some(Trouble::Unreachable(why)) => (reported != Some(true)).then(|| {
                    tracing::warn!("watch of {plural}: {why}; retrying");
                    reported = Some(true);
                    WatchMsg::Unreachable(kind, why)
                }),
                Some(Trouble::Rejected(why)) => (reported != Some(false)).then(|| {
                    tracing::warn!("watch of {plural} failed: {why}; retrying");
                    reported = Some(false);
                    WatchMsg::Failed(kind, why)
                }),
            };
            if let Some(msg) = msg
                && tx.send(msg).is_err()
            {
                return;
            }
            tokio::time::sleep(backoff.next_delay()).await;
            pacer.turn().await;
        }
    })
}

fn api<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Starts the watch of every event, Normal ones too, into a new store
/// that is loading until its first list is in. Aborting the task ends it;
/// with the store dropped too, its memory goes. It reports on a channel
/// and flags of its own, so nothing a stopped watch queued can reach a
/// later one.
pub(crate) fn spawn_events(
    client: &Client,
    namespace: Option<&str>,
    tx: UnboundedSender<WatchMsg>,
    pending: Arc<Pending>,
) -> (AllEvents, JoinHandle<()>) {
    let (all, writer) = AllEvents::new();
    let task = spawn_one(
        api(client, namespace),
        "",
        writer,
        Kind::Event,
        tx,
        pending,
        Arc::new(Pacer::new(PACE)),
        all.loading.clone(),
    );
    (all, task)
}

/// Starts every watcher but that of every event (`spawn_events`): Warning
/// events are watched alone. `namespace` limits the namespaced kinds to one
/// namespace (None: all namespaces).
pub fn spawn_all(
    client: &Client,
    namespace: Option<&str>,
    w: Writers,
    tx: UnboundedSender<WatchMsg>,
    pending: Arc<Pending>,
) -> Vec<JoinHandle<()>> {
    let pacer = Arc::new(Pacer::new(PACE));
    let p = || pending.clone();
    let t = || tx.clone();
    vec![
        spawn_one(
            Api::all(client.clone()),
            "",
            w.namespaces,
            Kind::Namespace,
            t(),
            p(),
            pacer.clone(),
            w.loading.clone(),
        ),
        spawn_one(
            Api::all(client.clone()),
            "",
            w.nodes,
            Kind::Node,
            t(),
            p(),
            pacer.clone(),
            w.loading.clone(),
        ),
        spawn_one(
            api(client, namespace),
            "",
            w.pods,
            Kind::Pod,
            t(),
            p(),
            pacer.clone(),
            w.loading.clone(),
        ),
        spawn_one(
            api(client, namespace),
            "",
            w.services,
            Kind::Service,
            t(),
            p(),
            pacer.clone(),
            w.loading.clone(),
        ),
        spawn_one(
            api(client, namespace),
            "",
            w.endpoints,
            Kind::Endpoints,
            t(),
            p(),
            pacer.clone(),
            w.loading.clone(),
        ),
        spawn_one(
            api(client, namespace),
            "type=Warning",
            w.warnings,
            Kind::Warning,
            t(),
            p(),
            pacer.clone(),
            w.loading.clone(),
        ),
        spawn_one(
            api(client, namespace),
            "",
            w.deployments,
            Kind::Deployment,
            t(),
            p(),
            pacer.clone(),
            w.loading.clone(),
        ),
        spawn_one(
            api(client, namespace),
            "",
            w.replicasets,
            Kind::ReplicaSet,
            t(),
            p(),
            pacer.clone(),
            w.loading.clone(),
        ),
        spawn_one(
            api(client, namespace),
            "",
            w.statefulsets,
            Kind::StatefulSet,
            t(),
            p(),
            pacer.clone(),
            w.loading.clone(),
        ),
        spawn_one(
            api(client, namespace),
            "",
            w.daemonsets,
            Kind::DaemonSet,
            t(),
            p(),
            pacer.clone(),
            w.loading.clone(),
        ),
        spawn_one(
            api(client, namespace),
            "",
            w.hpas,
            Kind::Hpa,
            t(),
            p(),
            pacer.clone(),
            w.loading.clone(),
        ),
        spawn_one(
            api(client, namespace),
            "",
            w.jobs,
            Kind::Job,
            t(),
            p(),
            pacer.clone(),
            w.loading.clone(),
        ),
        spawn_one(
            api(client, namespace),
            "",
            w.cronjobs,
            Kind::CronJob,
            t(),
            p(),
            pacer.clone(),
            w.loading.clone(),
        ),
    ]
}
