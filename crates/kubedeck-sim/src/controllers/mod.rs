//! The simulated control plane: level-triggered controllers, each with its
//! own work queue fed by the store's change feed, as kube-controller-manager
//! works. A controller never polls: it reconciles a key when something it
//! cares about changed, or when it asked to look again after a delay.

pub(crate) mod cronjob;
mod daemonset;
mod deployment;
mod endpoints;
mod gc;
mod hpa;
pub(crate) mod job;
pub(crate) mod kubelet;
mod namespace;
mod node;
pub(crate) mod pdb;
mod replicaset;
pub(crate) mod scheduler;
mod statefulset;
pub(crate) mod workload_util;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::config::SimConfig;
use super::events::Recorder;
use super::metrics::exposition::Counters;
use super::resources::ResourceDef;
use super::store::{Change, ObjKey, Store, obj_key};

/// One simulated cluster's state: what every controller and API handler
/// gets to work with. Nothing is shared between two clusters in a process.
pub(crate) struct Ctx {
    pub(crate) store: Arc<Store>,
    pub(crate) config: Arc<SimConfig>,
    pub(crate) recorder: Recorder,
    /// Held while an eviction is checked and applied, so two concurrent
    /// evictions can't both spend the last allowed disruption.
    pub(crate) evictions: Mutex<()>,
    /// The `/metrics` counters, integrated from one scrape to the next.
    pub(crate) counters: Mutex<Counters>,
    /// The cluster CA's certificate (PEM), published in every namespace's
    /// `kube-root-ca.crt`; set once the server has made it.
    pub(crate) root_ca: std::sync::OnceLock<String>,
}

impl Ctx {
    pub(crate) fn new(store: Arc<Store>, config: SimConfig) -> Ctx {
        Ctx {
            recorder: Recorder::new(store.clone()),
            store,
            config: Arc::new(config),
            evictions: Mutex::new(()),
            counters: Mutex::new(Counters::default()),
            root_ca: std::sync::OnceLock::new(),
        }
    }
}

pub(crate) trait Controller: Send + Sync + 'static {
    fn name(&self) -> &'static str;

    /// The kind whose objects this controller reconciles.
    fn primary(&self) -> &'static ResourceDef;

    /// The primary keys a change (of any kind) affects. The default covers
    /// changes to the primary kind itself.
    fn keys_for(&self, _ctx: &Ctx, change: &Change) -> Vec<ObjKey> {
        if std::ptr::eq(change.res, self.primary()) {
            vec![obj_key(&change.object)]
        } else {
            Vec::new()
        }
    }

    /// Moves one object toward its desired state. Returns when to reconcile
    /// it again even if nothing changes (a timer), or None.
    fn reconcile(&self, ctx: &Ctx, key: &ObjKey) -> Option<Duration>;
}

/// Keys due at instants, each key queued once at its earliest instant.
#[derive(Default)]
struct WorkQueue {
    by_time: BTreeMap<Instant, HashSet<ObjKey>>,
    due: HashMap<ObjKey, Instant>,
}

impl WorkQueue {
    fn add(&mut self, key: ObjKey, at: Instant) {
        if let Some(&t) = self.due.get(&key) {
            if t <= at {
                return;
            }
            if let Some(set) = self.by_time.get_mut(&t) {
                set.remove(&key);
                if set.is_empty() {
                    self.by_time.remove(&t);
                }
            }
        }
        self.due.insert(key.clone(), at);
        self.by_time.entry(at).or_default().insert(key);
    }

    fn pop_due(&mut self, now: Instant) -> Vec<ObjKey> {
        let mut out = Vec::new();
        while let Some(entry) = self.by_time.first_entry() {
            if *entry.key() > now {
                break;
            }
            for k in entry.remove() {
                self.due.remove(&k);
                out.push(k);
            }
        }
        out
    }

    fn next(&self) -> Option<Instant> {
        self.by_time.keys().next().copied()
    }
}

fn enqueue_all(ctx: &Ctx, c: &dyn Controller, q: &mut WorkQueue, now: Instant) {
    for obj in ctx.store.list(c.primary(), None) {
        q.add(obj_key(&obj), now);
    }
}

/// Runs one controller until the store's feed closes.
pub(crate) fn spawn(ctx: Arc<Ctx>, controller: Arc<dyn Controller>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut rx = ctx.store.subscribe();
        let mut queue = WorkQueue::default();
        enqueue_all(&ctx, controller.as_ref(), &mut queue, Instant::now());
        loop {
            let now = Instant::now();
            for key in queue.pop_due(now) {
                if let Some(after) = controller.reconcile(&ctx, &key) {
                    queue.add(key, now + after);
                }
            }
            let next = queue.next();
            tokio::select! {
                msg = rx.recv() => match msg {
                    Ok(change) => {
                        let now = Instant::now();
                        for key in controller.keys_for(&ctx, &change) {
                            queue.add(key, now);
                        }
                    }
                    Err(RecvError::Lagged(n)) => {
                        tracing::debug!(controller = controller.name(), missed = n, "resync after lag");
                        enqueue_all(&ctx, controller.as_ref(), &mut queue, Instant::now());
                    }
                    Err(RecvError::Closed) => return,
                },
                _ = tokio::time::sleep_until(next.unwrap_or(now)), if next.is_some() => {}
            }
        }
    })
}

/// Every controller of the simulated cluster.
pub(crate) fn all() -> Vec<Arc<dyn Controller>> {
    [
        deployment::controllers(),
        replicaset::controllers(),
        statefulset::controllers(),
        daemonset::controllers(),
        job::controllers(),
        cronjob::controllers(),
        hpa::controllers(),
        gc::controllers(),
        namespace::controllers(),
        scheduler::controllers(),
        kubelet::controllers(),
        endpoints::controllers(),
        pdb::controllers(),
        node::controllers(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_queue_keeps_each_key_once_at_its_earliest_time() {
        let mut q = WorkQueue::default();
        let t0 = Instant::now();
        let k = ("ns".to_string(), "a".to_string());
        q.add(k.clone(), t0 + Duration::from_secs(5));
        q.add(k.clone(), t0 + Duration::from_secs(1));
        q.add(k.clone(), t0 + Duration::from_secs(9));
        assert!(q.pop_due(t0).is_empty());
        assert_eq!(q.pop_due(t0 + Duration::from_secs(1)), vec![k]);
        assert!(q.next().is_none());
    }
}
