//! Waiting for a state by watching for it: a reflector over a watch stream,
//! checked after every event once the initial list is in. No polling, no
//! sleeps; the deadline only bounds a test that would otherwise hang.

use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use kube::Api;
use kube::runtime::WatchStreamExt as _;
use kube::runtime::reflector::{self, Lookup};
use kube::runtime::watcher::{self, Event, watcher};
use serde::de::DeserializeOwned;

/// Watches `api` until `check` accepts the objects, and returns what it
/// returned; fails with the last observation after `timeout`.
pub async fn watch_until<K, T>(
    api: Api<K>,
    config: watcher::Config,
    what: &str,
    timeout: Duration,
    check: impl Fn(&[Arc<K>]) -> Result<T, String>,
) -> T
where
    K: kube::Resource + Lookup + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    <K as Lookup>::DynamicType: Eq + Hash + Clone + Default,
{
    let (reader, writer) = reflector::store::<K>();
    let mut events = std::pin::pin!(reflector::reflector(
        writer,
        watcher(api, config).default_backoff()
    ));
    let deadline = tokio::time::Instant::now() + timeout;
    let mut synced = false;
    let mut last = String::from("nothing yet");
    loop {
        match tokio::time::timeout_at(deadline, events.next()).await {
            Ok(Some(Ok(event))) => {
                synced |= matches!(event, Event::InitDone);
                if synced {
                    match check(&reader.state()) {
                        Ok(v) => return v,
                        Err(seen) => last = seen,
                    }
                }
            }
            Ok(Some(Err(e))) => last = format!("watch error: {e}"),
            Ok(None) => panic!("the watch ended while waiting for {what}"),
            Err(_) => panic!("timed out after {timeout:?} waiting for {what}; last seen: {last}"),
        }
    }
}
