//! Events against a simulator: the console always watches the warnings
//! alone; every event only while a screen asks, into a store of its own.

use std::time::Duration;

use k8s_openapi::api::core::v1::Event;
use kube::Api;
use kube::api::PostParams;
use kube::runtime::reflector::Store;
use kubedeck_sim::testing;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use super::SlimEvent;
use super::cache::{self, Kind};
use super::watch::{Pending, WatchMsg, spawn_all, spawn_events};

const LONG: Duration = Duration::from_secs(60);

async fn record(api: &Api<Event>, name: &str, type_: &str, reason: &str) {
    let event: Event = serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "default"},
        "type": type_, "reason": reason, "message": format!("{reason} for the test"),
        "count": 1, "lastTimestamp": "2026-11-24T02:10:00Z"
    }))
    .expect("an event");
    api.create(&PostParams::default(), &event)
        .await
        .expect("recorded");
}

fn names(store: &Store<SlimEvent>) -> Vec<String> {
    let mut out: Vec<String> = store
        .state()
        .iter()
        .filter_map(|e| e.metadata.name.clone())
        .filter(|n| n.starts_with("kd-"))
        .collect();
    out.sort();
    out
}

/// Takes messages until `ok` holds; fails after `LONG`.
async fn until(
    rx: &mut UnboundedReceiver<WatchMsg>,
    pending: &Pending,
    what: &str,
    mut ok: impl FnMut(&WatchMsg) -> bool,
) {
    let deadline = tokio::time::Instant::now() + LONG;
    loop {
        let msg = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no {what} within {LONG:?}"))
            .expect("the watches run");
        if let WatchMsg::Changed(k) = msg {
            pending.take(k);
        }
        if ok(&msg) {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warnings_are_always_watched_and_every_event_only_while_asked() {
    let ts = testing::start().await;
    let client = ts.client();
    let api: Api<Event> = Api::namespaced(client.clone(), "default");
    record(&api, "kd-normal", "Normal", "Scheduled").await;
    record(&api, "kd-warning-1", "Warning", "BackOff").await;

    let (mut cache, writers) = cache::new();
    let (tx, mut rx) = unbounded_channel();
    let pending = std::sync::Arc::new(Pending::default());
    let _tasks = spawn_all(&client, None, writers, tx, pending.clone());
    until(&mut rx, &pending, "the warnings listed", |m| {
        *m == WatchMsg::Synced(Kind::Warning)
    })
    .await;
    // The console as it starts: Warning events, and no Normal one.
    assert!(cache.all_events.is_none());
    assert_eq!(names(&cache.warnings), ["kd-warning-1"]);
    assert!(
        cache
            .warnings
            .state()
            .iter()
            .all(|e| e.type_.as_deref() == Some("Warning"))
    );
    assert!(cache.loading(Kind::Event));

    // A screen asks for every event: a new store, loading until listed.
    let (etx, mut erx) = unbounded_channel();
    let epending = std::sync::Arc::new(Pending::default());
    let (all, task) = spawn_events(&client, None, etx, epending.clone());
    cache.all_events = Some(all);
    assert!(cache.loading(Kind::Event));
    until(&mut erx, &epending, "every event listed", |m| {
        *m == WatchMsg::Synced(Kind::Event)
    })
    .await;
    assert!(!cache.loading(Kind::Event));
    assert_eq!(names(cache.events()), ["kd-normal", "kd-warning-1"]);

    // A new warning shows live in both.
    record(&api, "kd-warning-2", "Warning", "Unhealthy").await;
    until(&mut rx, &pending, "the new warning", |_| {
        names(&cache.warnings).contains(&"kd-warning-2".to_string())
    })
    .await;
    until(
        &mut erx,
        &epending,
        "the new warning in every event",
        |_| names(cache.events()).contains(&"kd-warning-2".to_string()),
    )
    .await;
    assert_eq!(names(&cache.warnings), ["kd-warning-1", "kd-warning-2"]);

    // No screen asks any more: the watch ends, its store goes, and the
    // views read the warnings again.
    task.abort();
    assert!(task.await.is_err_and(|e| e.is_cancelled()));
    // What it sent before it stopped may still be queued; then its channel
    // closes, as its sender went with the task.
    tokio::time::timeout(LONG, async { while erx.recv().await.is_some() {} })
        .await
        .expect("the stopped watch's channel closes");
    cache.all_events = None;
    assert_eq!(names(cache.events()), ["kd-warning-1", "kd-warning-2"]);
}
