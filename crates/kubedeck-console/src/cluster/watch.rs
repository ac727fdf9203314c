//! Watchers: one kube-runtime watcher per kind, reflected into the cache.
//! A burst of changes becomes one message: a kind's flag is raised with the
//! first change and the UI loop lowers it when it takes the message.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt;
use kube::runtime::reflector::store::Writer;
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use super::cache::{Kind, Writers};

/// What the watchers tell the UI loop.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchMsg {
    /// Something of this kind changed; read the cache.
    Changed(Kind),
    /// The first complete list of this kind has arrived.
    Synced(Kind),
    /// The watch failed; it retries with back-off, the cache keeps its data.
    Failed(Kind, String),
}

/// One raised-or-not flag per kind: whether a `Changed` is already on its way.
#[derive(Default)]
pub struct Pending([AtomicBool; Kind::ALL.len()]);

impl Pending {
    /// Lowers the kind's flag; the UI loop calls it when it takes a `Changed`.
    pub fn take(&self, kind: Kind) {
        self.0[kind.index()].store(false, Ordering::Release);
    }

    fn raise(&self, kind: Kind) -> bool {
        !self.0[kind.index()].swap(true, Ordering::AcqRel)
    }
}

/// What the watch drops before an object enters the store: the
/// server-side apply bookkeeping no view shows.
pub(super) fn drop_managed_fields<K: Resource>(o: &mut K) {
    o.meta_mut().managed_fields = None;
}

fn spawn_one<K>(
    api: Api<K>,
    writer: Writer<K>,
    kind: Kind,
    tx: UnboundedSender<WatchMsg>,
    pending: Arc<Pending>,
) -> JoinHandle<()>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone + Send + Sync,
{
    tokio::spawn(async move {
        let stream = reflector(
            writer,
            watcher(api, watcher::Config::default())
                .default_backoff()
                .modify(drop_managed_fields),
        );
        futures::pin_mut!(stream);
        let mut failed = false;
        let mut listed = 0usize;
        while let Some(item) = stream.next().await {
            let msg = match item {
                Ok(watcher::Event::InitDone) => {
                    let how = if failed { "resynced" } else { "synced" };
                    tracing::info!("watch of {} {how}: {listed} listed", kind.plural());
                    failed = false;
                    Some(WatchMsg::Synced(kind))
                }
                Ok(watcher::Event::Init) => {
                    listed = 0;
                    None
                }
                Ok(watcher::Event::InitApply(_)) => {
                    listed += 1;
                    None
                }
                Ok(watcher::Event::Apply(_)) | Ok(watcher::Event::Delete(_)) => {
                    if failed {
                        tracing::info!("watch of {} resumed", kind.plural());
                        failed = false;
                    }
                    pending.raise(kind).then_some(WatchMsg::Changed(kind))
                }
                Err(e) if !failed => {
                    failed = true;
                    tracing::warn!("watch of {} failed: {e}; retrying", kind.plural());
                    Some(WatchMsg::Failed(kind, e.to_string()))
                }
                Err(_) => None,
            };
            if let Some(msg) = msg
                && tx.send(msg).is_err()
            {
                return;
            }
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

/// Starts every watcher. `namespace` limits the namespaced kinds to one
/// namespace (None: all namespaces).
pub fn spawn_all(
    client: &Client,
    namespace: Option<&str>,
    w: Writers,
    tx: UnboundedSender<WatchMsg>,
    pending: Arc<Pending>,
) -> Vec<JoinHandle<()>> {
    let p = || pending.clone();
    let t = || tx.clone();
    vec![
        spawn_one(
            Api::all(client.clone()),
            w.namespaces,
            Kind::Namespace,
            t(),
            p(),
        ),
        spawn_one(Api::all(client.clone()), w.nodes, Kind::Node, t(), p()),
        spawn_one(api(client, namespace), w.pods, Kind::Pod, t(), p()),
        spawn_one(api(client, namespace), w.services, Kind::Service, t(), p()),
        spawn_one(
            api(client, namespace),
            w.endpoints,
            Kind::Endpoints,
            t(),
            p(),
        ),
        spawn_one(api(client, namespace), w.events, Kind::Event, t(), p()),
        spawn_one(
            api(client, namespace),
            w.deployments,
            Kind::Deployment,
            t(),
            p(),
        ),
        spawn_one(
            api(client, namespace),
            w.replicasets,
            Kind::ReplicaSet,
            t(),
            p(),
        ),
        spawn_one(
            api(client, namespace),
            w.statefulsets,
            Kind::StatefulSet,
            t(),
            p(),
        ),
        spawn_one(
            api(client, namespace),
            w.daemonsets,
            Kind::DaemonSet,
            t(),
            p(),
        ),
        spawn_one(api(client, namespace), w.hpas, Kind::Hpa, t(), p()),
        spawn_one(api(client, namespace), w.jobs, Kind::Job, t(), p()),
        spawn_one(api(client, namespace), w.cronjobs, Kind::CronJob, t(), p()),
    ]
}
