//! The watches against a simulator behind a fault proxy: after each fault
//! clears, the cache holds the server's truth again.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client};
use kubedeck_sim::testing::fault_proxy::{FaultProxy, Mode};
use kubedeck_sim::testing::{self, TestSim};
use tokio::sync::Notify;
use tokio::sync::mpsc::UnboundedReceiver;

use super::Cache;
use super::cache::{self, Kind};
use super::watch::{Pending, WatchMsg, spawn_all};

const LONG: Duration = Duration::from_secs(60);

struct Watching {
    cache: Cache,
    rx: UnboundedReceiver<WatchMsg>,
    pending: std::sync::Arc<Pending>,
    _tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Watching {
    fn start(proxy: &FaultProxy) -> Watching {
        let url = format!("http://{}", proxy.addr()).parse().expect("a URL");
        let client = Client::try_from(kube::Config::new(url)).expect("a client");
        let (cache, writers) = cache::new();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let pending = std::sync::Arc::new(Pending::default());
        let tasks = spawn_all(&client, None, writers, tx, pending.clone());
        Watching {
            cache,
            rx,
            pending,
            _tasks: tasks,
        }
    }

    /// Takes messages until `ok` holds for one; fails after `LONG`.
    async fn until(&mut self, what: &str, ok: impl Fn(&WatchMsg, &Cache) -> bool) {
        let deadline = tokio::time::Instant::now() + LONG;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("no {what} within {LONG:?}"))
                .expect("the watches run");
            if let WatchMsg::Changed(k) = msg {
                self.pending.take(k);
            }
            if ok(&msg, &self.cache) {
                return;
            }
        }
    }

    fn namespaces(&self) -> BTreeSet<String> {
        self.cache
            .namespaces
            .state()
            .iter()
            .filter_map(|n| n.metadata.name.clone())
            .collect()
    }
}

fn names(cache: &Cache) -> BTreeSet<String> {
    cache
        .namespaces
        .state()
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .collect()
}

async fn create_ns(ts: &TestSim, name: &str) {
    let ns: Namespace = serde_json::from_value(serde_json::json!({"metadata": {"name": name}}))
        .expect("a namespace");
    Api::<Namespace>::all(ts.client())
        .create(&PostParams::default(), &ns)
        .await
        .expect("create the namespace");
}

async fn delete_ns(ts: &TestSim, name: &str) {
    Api::<Namespace>::all(ts.client())
        .delete(name, &DeleteParams::default())
        .await
        .expect("delete the namespace");
    // A namespace goes once its contents have; the sim finalizes it.
    testing::wait_until(&format!("namespace {name} gone"), LONG, || async {
        match Api::<Namespace>::all(ts.client()).get_opt(name).await {
            Ok(None) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
}

fn unreachable(kind: Kind) -> impl Fn(&WatchMsg, &Cache) -> bool {
    move |m, _| matches!(m, WatchMsg::Unreachable(k, _) if *k == kind)
}

/// The namespaces' watch relisted and the cache has `present`, not `gone`.
fn relisted<'a>(present: &'a str, gone: &'a str) -> impl Fn(&WatchMsg, &Cache) -> bool + 'a {
    move |m, c| {
        *m == WatchMsg::Synced(Kind::Namespace)
            && names(c).contains(present)
            && !names(c).contains(gone)
    }
}

/// A simulator, a proxy before it, and watches through the proxy that
/// have listed the namespaces and seen `doomed` created: the namespaces'
/// watch is open when the test's fault comes.
async fn watching() -> (TestSim, FaultProxy, Watching) {
    let ts = testing::start().await;
    let proxy = FaultProxy::start(ts.sim.addr).await;
    let mut w = Watching::start(&proxy);
    w.until("namespaces synced", |m, _| {
        *m == WatchMsg::Synced(Kind::Namespace)
    })
    .await;
    create_ns(&ts, "doomed").await;
    w.until("doomed watched", |m, c| {
        *m == WatchMsg::Changed(Kind::Namespace) && names(c).contains("doomed")
    })
    .await;
    (ts, proxy, w)
}

/// While the server is away `doomed` goes and `born` comes; the cache
/// keeps the last data meanwhile.
async fn change_during_outage(ts: &TestSim, w: &Watching) {
    create_ns(ts, "born").await;
    delete_ns(ts, "doomed").await;
    assert!(
        w.namespaces().contains("doomed") && !w.namespaces().contains("born"),
        "the cache keeps the last data while the server is away"
    );
}

fn assert_bounded(proxy: &FaultProxy, since: Instant) {
    let burst = proxy.max_per_second(since);
    assert!(burst <= 20, "{burst} connections in one second: a hot loop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_then_back_the_cache_is_the_servers_truth_and_retries_stay_bounded() {
    let (ts, proxy, mut w) = watching().await;
    let outage = Instant::now();
    proxy.set_mode(Mode::Refuse);
    w.until(
        "the namespaces' watch unreachable",
        unreachable(Kind::Namespace),
    )
    .await;
    change_during_outage(&ts, &w).await;
    // Every kind retries into the refusals at least twice.
    let n = proxy.connections();
    proxy.until_connections(n + 2 * Kind::ALL.len(), LONG).await;
    proxy.set_mode(Mode::Pass);
    w.until("the outage's truth", relisted("born", "doomed"))
        .await;
    assert_bounded(&proxy, outage);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_server_is_noticed_and_left_behind_once_it_answers() {
    let (ts, proxy, mut w) = watching().await;
    let outage = Instant::now();
    proxy.set_mode(Mode::Hang);
    w.until(
        "the namespaces' watch unreachable",
        unreachable(Kind::Namespace),
    )
    .await;
    change_during_outage(&ts, &w).await;
    proxy.set_mode(Mode::Pass);
    w.until("the outage's truth", relisted("born", "doomed"))
        .await;
    assert_bounded(&proxy, outage);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_streams_are_resumed_by_a_fresh_list() {
    let (ts, proxy, mut w) = watching().await;
    let outage = Instant::now();
    proxy.cut();
    // A cut watch is not resumed where it was: the server may be another.
    w.until("a fresh list", |m, _| {
        *m == WatchMsg::Synced(Kind::Namespace)
    })
    .await;
    change_during_outage_after(&ts).await;
    w.until("changes after the cut", |_, c| {
        names(c).contains("born") && !names(c).contains("doomed")
    })
    .await;
    assert_bounded(&proxy, outage);
}

async fn change_during_outage_after(ts: &TestSim) {
    create_ns(ts, "born").await;
    delete_ns(ts, "doomed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_with_other_contents_replaces_the_cache() {
    let (_old, proxy, mut w) = watching().await;
    let new = testing::start().await;
    create_ns(&new, "born").await;
    let outage = Instant::now();
    proxy.switch_upstream(new.sim.addr);
    w.until("the new server's truth", relisted("born", "doomed"))
        .await;
    assert_bounded(&proxy, outage);
}

/// What the quiet server below was asked: lists, and watches with the
/// version each resumed from.
#[derive(Default)]
struct Asked {
    lists: usize,
    watches: Vec<String>,
}

/// A server that lists one namespace at version 100 and holds every watch
/// open and silent until its timeout, as kube-apiserver does for a kind
/// nothing changes in (it bookmarks about once a minute).
async fn quiet_server(asked: Arc<Mutex<Asked>>, changed: Arc<Notify>) -> Client {
    use axum::body::{Body, Bytes};
    use axum::extract::RawQuery;
    use axum::response::IntoResponse;
    let app = axum::Router::new().fallback(move |RawQuery(q): RawQuery| {
        let asked = asked.clone();
        let changed = changed.clone();
        async move {
            let q = q.unwrap_or_default();
            let param = |k: &str| {
                q.split('&')
                    .find_map(|kv| kv.strip_prefix(k))
                    .map(str::to_string)
            };
            if !q.contains("watch=true") {
                asked.lock().unwrap_or_else(|e| e.into_inner()).lists += 1;
                changed.notify_one();
                return axum::Json(serde_json::json!({
                    "kind": "NamespaceList", "apiVersion": "v1",
                    "metadata": {"resourceVersion": "100"},
                    "items": [{"metadata": {"name": "demo", "resourceVersion": "100"}}]
                }))
                .into_response();
            }
            let rv = param("resourceVersion=").unwrap_or_default();
            asked
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .watches
                .push(rv);
            changed.notify_one();
            let secs: u64 = param("timeoutSeconds=")
                .and_then(|v| v.parse().ok())
                .expect("the watch asks for a timeout");
            Body::from_stream(futures::stream::once(async move {
                tokio::time::sleep(Duration::from_secs(secs)).await;
                Ok::<_, std::convert::Infallible>(Bytes::new())
            }))
            .into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Client::try_from(kube::Config::new(url.parse().expect("a URL"))).expect("a client")
}

#[tokio::test]
async fn a_quiet_watch_is_resumed_at_its_timeout_not_relisted() {
    let asked = Arc::new(Mutex::new(Asked::default()));
    let changed = Arc::new(Notify::new());
    let api = Api::<Namespace>::all(quiet_server(asked.clone(), changed.clone()).await);
    let (store, mut writer) = kube::runtime::reflector::store();
    let session =
        tokio::spawn(async move { super::session::run(&api, "", &mut writer, |_| true).await });
    // The second watch is the resumption after the first window's end.
    tokio::time::timeout(Duration::from_secs(60), async {
        while asked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .watches
            .len()
            < 2
        {
            changed.notified().await;
        }
    })
    .await
    .expect("a second watch within 60 s");
    session.abort();
    let asked = asked.lock().unwrap_or_else(|e| e.into_inner());
    assert_eq!(asked.lists, 1, "a silent window is no reason to relist");
    assert_eq!(asked.watches, ["100", "100"]);
    assert_eq!(store.state().len(), 1);
}
