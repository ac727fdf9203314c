//! The log streaming layer against the in-process simulator: whole
//! workloads, replacements after a kill, crash loops, dropped connections.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kubedeck_core::logs::stream::WorkloadKind;
use kubedeck_core::logs::{
    Bound, LineKind, LogBuffer, LogLine, LogSource, LogStream, StatusKind, StreamOptions, follow,
};
use kubedeck_sim::config::{Delays, SimConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// Fast log lines and crash loops, so that tests see several of each
/// within seconds.
fn fast() -> SimConfig {
    SimConfig {
        delays: Delays {
            log_interval: Duration::from_millis(200),
            crash_after: Duration::from_millis(600),
            backoff_base: Duration::from_millis(300),
            backoff_max: Duration::from_secs(2),
            ..Delays::default()
        },
        ..SimConfig::default()
    }
}

fn opts_once() -> StreamOptions {
    StreamOptions {
        follow: false,
        ..StreamOptions::default()
    }
}

fn web() -> LogSource {
    LogSource::Workload {
        namespace: "demo".into(),
        kind: WorkloadKind::Deployment,
        name: "web".into(),
    }
}

/// Everything a stream delivered, for assertions and failure messages.
#[derive(Default)]
struct Seen {
    lines: Vec<LogLine>,
}

impl Seen {
    fn logs_from(&self) -> BTreeSet<String> {
        self.lines
            .iter()
            .filter(|l| l.kind == LineKind::Log)
            .map(|l| l.pod.to_string())
            .collect()
    }

    fn statuses(&self, kind: StatusKind) -> Vec<String> {
        self.lines
            .iter()
            .filter(|l| l.kind == LineKind::Status(kind))
            .map(|l| format!("{}/{}: {}", l.pod, l.container, l.text))
            .collect()
    }

    fn dump(&self) -> String {
        self.lines
            .iter()
            .map(|l| format!("[{:?}] {}", l.kind, l.render(true)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Fails when a container's lines repeat or go back in time: a resumed
    /// stream must neither repeat nor reorder. (A crash writes its last
    /// lines at one instant, so equal times are fine.)
    fn assert_no_duplicates(&self) {
        let mut last: HashMap<(String, String), DateTime<Utc>> = HashMap::new();
        let mut lines = BTreeSet::new();
        for l in self.lines.iter().filter(|l| l.kind == LineKind::Log) {
            let t = l.time.expect("every streamed line has its timestamp");
            let key = (l.pod.to_string(), l.container.to_string());
            let fresh = lines.insert((key.clone(), t, l.text.clone()));
            if let Some(prev) = last.insert(key, t) {
                assert!(
                    fresh && t >= prev,
                    "line repeated or out of order: {}\nall lines:\n{}",
                    l.render(true),
                    self.dump()
                );
            }
        }
    }
}

/// Reads from the stream until `done` holds, failing after `timeout`.
async fn read_until(
    stream: &mut LogStream,
    seen: &mut Seen,
    timeout: Duration,
    what: &str,
    done: impl Fn(&Seen) -> bool,
) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !done(seen) {
        match tokio::time::timeout_at(deadline, stream.next_line()).await {
            Ok(Some(line)) => seen.lines.push(line),
            Ok(None) => panic!("the stream ended before {what}; it gave:\n{}", seen.dump()),
            Err(_) => panic!(
                "no {what} within {timeout:?}; the stream gave:\n{}",
                seen.dump()
            ),
        }
    }
}

/// Reads a stream that ends by itself (no follow) to its end.
async fn read_all(mut stream: LogStream) -> Seen {
    let mut seen = Seen::default();
    let read = async {
        while let Some(line) = stream.next_line().await {
            seen.lines.push(line);
        }
    };
    if tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .is_err()
    {
        panic!("a stream without follow did not end");
    }
    seen
}

async fn running_pods(api: &Api<Pod>, selector: &str, n: usize) -> Vec<String> {
    crate::common::wait_until(
        &format!("{n} running pods {selector}"),
        Duration::from_secs(30),
        || async {
            let pods = api
                .list(&ListParams::default().labels(selector))
                .await
                .map_err(|e| e.to_string())?;
            let running: Vec<String> = pods
                .items
                .iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
                .filter(|p| {
                    p.status
                        .as_ref()
                        .and_then(|s| s.container_statuses.as_ref())
                        .is_some_and(|cs| {
                            cs.iter()
                                .all(|c| c.state.as_ref().is_some_and(|s| s.running.is_some()))
                        })
                })
                .filter_map(|p| p.metadata.name.clone())
                .collect();
            if running.len() == n {
                Ok(running)
            } else {
                Err(format!("running: {running:?}"))
            }
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_a_workload_shows_lines_from_all_its_pods() {
    let ts = crate::common::start_with("minimal", fast()).await;
    let client = ts.client();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "demo");
    let names: BTreeSet<String> = running_pods(&pods, "app=web", 2)
        .await
        .into_iter()
        .collect();

    let mut stream = follow(client, web(), StreamOptions::default());
    let mut seen = Seen::default();
    read_until(
        &mut stream,
        &mut seen,
        Duration::from_secs(20),
        "lines from both web pods",
        |s| s.logs_from() == names,
    )
    .await;
    // Keep reading a little: lines keep coming, in order, from both.
    let count = seen.lines.len();
    read_until(
        &mut stream,
        &mut seen,
        Duration::from_secs(10),
        "more lines",
        |s| s.lines.len() >= count + 6,
    )
    .await;
    seen.assert_no_duplicates();
    let joined = seen.statuses(StatusKind::Joined);
    assert_eq!(joined.len(), 2, "one join note per container: {joined:?}");
    assert!(
        seen.statuses(StatusKind::Error).is_empty(),
        "{}",
        seen.dump()
    );
    // The same pods through the Service's selector.
    let mut by_service = follow(
        ts.client(),
        LogSource::Workload {
            namespace: "demo".into(),
            kind: WorkloadKind::Service,
            name: "web".into(),
        },
        StreamOptions::default(),
    );
    let mut seen = Seen::default();
    read_until(
        &mut by_service,
        &mut seen,
        Duration::from_secs(20),
        "lines from both pods behind the service",
        |s| s.logs_from() == names,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_pods_replacement_joins_the_stream() {
    let ts = crate::common::start_with("minimal", fast()).await;
    let client = ts.client();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "demo");
    let before: BTreeSet<String> = running_pods(&pods, "app=web", 2)
        .await
        .into_iter()
        .collect();

    let mut stream = follow(client, web(), StreamOptions::default());
    let mut seen = Seen::default();
    read_until(
        &mut stream,
        &mut seen,
        Duration::from_secs(20),
        "lines from both pods",
        |s| s.logs_from() == before,
    )
    .await;

    let victim = before.iter().next().cloned().expect("a pod");
    pods.delete(&victim, &DeleteParams::default())
        .await
        .expect("delete the pod");
    read_until(
        &mut stream,
        &mut seen,
        Duration::from_secs(30),
        "lines from the replacement pod and the end of the killed pod's stream",
        |s| {
            let new_pod = s.logs_from().iter().any(|p| !before.contains(p));
            let ended = s
                .statuses(StatusKind::Ended)
                .iter()
                .any(|l| l.contains(&format!("{victim} deleted; stream ended")));
            new_pod && ended
        },
    )
    .await;
    // The killed pod ends cleanly: no reconnect attempts, no errors.
    assert!(
        seen.statuses(StatusKind::Reconnecting).is_empty()
            && seen.statuses(StatusKind::Error).is_empty(),
        "{}",
        seen.dump()
    );
    let victim_lines_after_end = seen
        .lines
        .iter()
        .skip_while(|l| {
            !(l.pod.as_ref() == victim && l.kind == LineKind::Status(StatusKind::Ended))
        })
        .filter(|l| l.pod.as_ref() == victim)
        .count();
    assert_eq!(
        victim_lines_after_end, 1,
        "nothing from {victim} after its end"
    );
    seen.assert_no_duplicates();
}

fn crashloop_pod(name: &str) -> Pod {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "demo", "labels": {"app": "crasher"}},
        "spec": {"containers": [{"name": "api", "image": "registry.example/api:crashloop"}]},
    }))
    .expect("a valid pod")
}

async fn wait_restarts(api: &Api<Pod>, name: &str, n: i32) {
    crate::common::wait_until(
        &format!("{name} restarted {n} times"),
        Duration::from_secs(30),
        || async {
            let p = api.get(name).await.map_err(|e| e.to_string())?;
            let restarts = p
                .status
                .and_then(|s| s.container_statuses)
                .and_then(|cs| cs.first().map(|c| c.restart_count))
                .unwrap_or(0);
            if restarts >= n {
                Ok(())
            } else {
                Err(format!("{restarts} restarts"))
            }
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previous_container_logs_of_a_crash_loop_show_the_crash() {
    // The simulator's real crash-loop pace: container times have whole
    // seconds, so sub-second runs would blur one instance into the next.
    let ts = crate::common::start_with("minimal", SimConfig::default()).await;
    let pods: Api<Pod> = Api::namespaced(ts.client(), "demo");
    pods.create(&PostParams::default(), &crashloop_pod("api-1"))
        .await
        .expect("create the pod");
    wait_restarts(&pods, "api-1", 1).await;

    let target = LogSource::Pod {
        namespace: "demo".into(),
        name: "api-1".into(),
    };
    let previous = StreamOptions {
        previous: true,
        ..StreamOptions::default()
    };
    let seen = read_all(follow(ts.client(), target.clone(), previous)).await;
    let logs: Vec<&str> = seen
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::Log)
        .map(|l| l.text.as_str())
        .collect();
    let status = pods.get("api-1").await.ok().and_then(|p| p.status);
    assert!(
        logs.iter().any(|l| l.starts_with("panic: ")),
        "the previous instance's crash is shown:\n{}\npod status: {status:?}",
        seen.dump()
    );
    assert!(
        seen.lines
            .iter()
            .all(|l| l.pod.as_ref() == "api-1" && l.container.as_ref() == "api")
    );

    // Following the crash loop says when the container exits and picks up
    // each new instance by itself.
    let mut stream = follow(ts.client(), target, StreamOptions::default());
    let mut seen = Seen::default();
    read_until(
        &mut stream,
        &mut seen,
        Duration::from_secs(60),
        "an exit, a restart and the new instance's lines",
        |s| {
            let exited = s.lines.iter().position(|l| {
                l.kind == LineKind::Status(StatusKind::Restarted)
                    && l.text.contains("exited with code 1")
            });
            let restarted = exited.and_then(|i| {
                s.lines[i..]
                    .iter()
                    .position(|l| l.text.contains("restarted (restart"))
                    .map(|j| i + j)
            });
            restarted.is_some_and(|j| s.lines[j..].iter().any(|l| l.kind == LineKind::Log))
        },
    )
    .await;
    assert!(
        seen.lines
            .iter()
            .any(|l| l.kind == LineKind::Log && l.text.starts_with("panic: ")),
        "the followed stream shows the crash as it happens:\n{}",
        seen.dump()
    );
    // An exit is an exit, not a lost connection.
    assert!(
        seen.statuses(StatusKind::Reconnecting).is_empty(),
        "{}",
        seen.dump()
    );
    seen.assert_no_duplicates();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_lines_and_container_selection_without_follow() {
    let ts = crate::common::start_with("minimal", fast()).await;
    let pods: Api<Pod> = Api::namespaced(ts.client(), "demo");
    let names = running_pods(&pods, "app=web", 2).await;
    // Let each pod write a few lines.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let opts = StreamOptions {
        follow: false,
        tail_lines: Some(3),
        containers: kubedeck_core::logs::Containers::One("web".into()),
        ..StreamOptions::default()
    };
    let seen = read_all(follow(ts.client(), web(), opts.clone())).await;
    for name in &names {
        let n = seen
            .lines
            .iter()
            .filter(|l| l.kind == LineKind::Log && l.pod.as_ref() == name)
            .count();
        assert_eq!(n, 3, "three lines from {name}:\n{}", seen.dump());
    }
    let none = StreamOptions {
        containers: kubedeck_core::logs::Containers::One("sidecar".into()),
        ..opts
    };
    assert!(
        read_all(follow(ts.client(), web(), none))
            .await
            .lines
            .is_empty()
    );
    // No matching pods: said, then the end; when following, a wait.
    let nothing = LogSource::Selector {
        namespace: "demo".into(),
        selector: "app=nothing".into(),
    };
    let seen = read_all(follow(ts.client(), nothing.clone(), opts_once())).await;
    assert_eq!(
        seen.statuses(StatusKind::Ended),
        ["app=nothing/: no pods match app=nothing"]
    );
    let mut waiting = follow(ts.client(), nothing, StreamOptions::default());
    let mut seen = Seen::default();
    read_until(
        &mut waiting,
        &mut seen,
        Duration::from_secs(10),
        "a waiting note",
        |s| !s.statuses(StatusKind::Waiting).is_empty(),
    )
    .await;
    // A missing workload says so and ends.
    let missing = LogSource::Workload {
        namespace: "demo".into(),
        kind: WorkloadKind::StatefulSet,
        name: "nope".into(),
    };
    let seen = read_all(follow(ts.client(), missing, StreamOptions::default())).await;
    assert_eq!(
        seen.statuses(StatusKind::Error),
        ["nope/: StatefulSet demo/nope not found"]
    );
}

/// A TCP proxy in front of the simulator whose open connections can be cut,
/// as a flaky network or an API server restart would.
struct Proxy {
    addr: SocketAddr,
    conns: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let conns: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let registry = conns.clone();
        tokio::spawn(async move {
            while let Ok((mut down, _)) = listener.accept().await {
                let task = tokio::spawn(async move {
                    if let Ok(mut up) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                    }
                });
                if let Ok(mut c) = registry.lock() {
                    c.push(task.abort_handle());
                }
            }
        });
        Proxy { addr, conns }
    }

    fn cut(&self) {
        if let Ok(mut c) = self.conns.lock() {
            for conn in c.drain(..) {
                conn.abort();
            }
        }
    }

    fn client(&self) -> kube::Client {
        let url = format!("http://{}", self.addr);
        let config = kube::Config::new(url.parse().expect("proxy URL"));
        kube::Client::try_from(config).expect("kube client")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_streams_reconnect_say_so_and_neither_lose_nor_repeat_lines() {
    let ts = crate::common::start_with("minimal", fast()).await;
    let pods: Api<Pod> = Api::namespaced(ts.client(), "demo");
    let names: BTreeSet<String> = running_pods(&pods, "app=web", 2)
        .await
        .into_iter()
        .collect();
    let proxy = Proxy::start(ts.sim.addr).await;
    let opts = StreamOptions {
        backoff_initial: Duration::from_millis(100),
        ..StreamOptions::default()
    };
    let mut stream = follow(proxy.client(), web(), opts);
    let mut seen = Seen::default();
    read_until(
        &mut stream,
        &mut seen,
        Duration::from_secs(20),
        "lines from both pods",
        |s| s.logs_from() == names,
    )
    .await;
    proxy.cut();
    let cut_at = seen.lines.len();
    read_until(
        &mut stream,
        &mut seen,
        Duration::from_secs(20),
        "reconnect notes and new lines from both pods",
        |s| {
            let after = &s.lines[cut_at..];
            let reconnected: BTreeSet<&str> = after
                .iter()
                .filter(|l| l.kind == LineKind::Status(StatusKind::Reconnecting))
                .map(|l| l.pod.as_ref())
                .collect();
            let resumed: BTreeSet<&str> = after
                .iter()
                .skip_while(|l| l.kind != LineKind::Status(StatusKind::Reconnecting))
                .filter(|l| l.kind == LineKind::Log)
                .map(|l| l.pod.as_ref())
                .collect();
            names
                .iter()
                .all(|n| reconnected.contains(n.as_str()) && resumed.contains(n.as_str()))
        },
    )
    .await;
    let notes = seen.statuses(StatusKind::Reconnecting);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("reconnecting to web-") && n.contains("(attempt 1)")),
        "{notes:?}"
    );
    seen.assert_no_duplicates();
    // No gap either: every line the server has for a pod up to the last one
    // streamed was delivered.
    for name in &names {
        let got: Vec<&str> = seen
            .lines
            .iter()
            .filter(|l| l.kind == LineKind::Log && l.pod.as_ref() == name)
            .map(|l| l.text.as_str())
            .collect();
        let last = seen
            .lines
            .iter()
            .rev()
            .find(|l| l.kind == LineKind::Log && l.pod.as_ref() == name)
            .and_then(|l| l.time)
            .expect("lines from the pod");
        let all = pods
            .logs(
                name,
                &kube::api::LogParams {
                    timestamps: true,
                    ..Default::default()
                },
            )
            .await
            .expect("the whole log");
        let want: Vec<&str> = all
            .lines()
            .filter_map(|l| l.split_once(' '))
            .filter(|(t, _)| {
                DateTime::parse_from_rfc3339(t).is_ok_and(|t| t.with_timezone(&Utc) <= last)
            })
            .map(|(_, text)| text)
            .collect();
        assert_eq!(got, want, "{name}'s lines across the reconnect");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buffer_fed_by_a_stream_stays_within_its_bound() {
    let ts = crate::common::start_with(
        "minimal",
        SimConfig {
            delays: Delays {
                log_interval: Duration::from_millis(20),
                ..Delays::default()
            },
            ..SimConfig::default()
        },
    )
    .await;
    let pods: Api<Pod> = Api::namespaced(ts.client(), "demo");
    running_pods(&pods, "app=web", 2).await;
    let bound = Bound {
        max_lines: 40,
        max_bytes: 64 * 1024,
    };
    let mut buffer = LogBuffer::new(bound);
    let mut stream = follow(ts.client(), web(), StreamOptions::default());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while buffer.dropped() < 200 {
        match tokio::time::timeout_at(deadline, stream.next_line()).await {
            Ok(Some(line)) => buffer.push(line),
            other => panic!(
                "the stream stalled ({other:?}) after {} lines",
                buffer.next_seq()
            ),
        }
        assert!(buffer.len() <= bound.max_lines && buffer.bytes() <= bound.max_bytes);
    }
    assert_eq!(buffer.len(), bound.max_lines);
}
