//! Pod CPU and memory from metrics.k8s.io. The metrics API has no watch,
//! so a sampler lists PodMetrics on a fixed period, as metrics-server
//! clients do, and hands each sample to the UI loop as one message.

use std::collections::HashMap;
use std::time::Duration;

use kube::Client;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use crate::views::RowKey;
use kubedeck_core::metrics::Feed;
use kubedeck_core::metrics::source::{PodUsage, Round, pod_metrics_api, sample_pod_metrics};

/// metrics-server scrapes every 15 s; sampling faster shows nothing new.
pub(crate) const PERIOD: Duration = Duration::from_secs(15);

/// One pod's usage, summed over its containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub(crate) cpu_millis: u64,
    pub(crate) memory_bytes: u64,
}

/// What is known about pod metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PodMetrics {
    /// No sample yet.
    #[default]
    Pending,
    /// The cluster serves no metrics API (or not to us).
    Unavailable,
    /// The latest sample, by (namespace, name). Pods that are not running
    /// have no entry.
    Sample(HashMap<RowKey, Usage>),
}

impl PodMetrics {
    /// CPU and memory cells for a pod: `12m` and `45Mi`; `-` while nothing
    /// is known for it, `n/a` without a metrics API.
    pub(crate) fn cells(&self, key: &RowKey) -> (String, String) {
        match self {
            PodMetrics::Pending => ("-".into(), "-".into()),
            PodMetrics::Unavailable => ("n/a".into(), "n/a".into()),
            PodMetrics::Sample(m) => m.get(key).map_or(("-".into(), "-".into()), |u| {
                (format!("{}m", u.cpu_millis), format_memory(u.memory_bytes))
            }),
        }
    }

    pub(crate) fn usage(&self, key: &RowKey) -> Option<Usage> {
        match self {
            PodMetrics::Sample(m) => m.get(key).copied(),
            _ => None,
        }
    }
}

/// Memory as kubectl top prints it: mebibytes, or kibibytes below one.
pub(crate) fn format_memory(bytes: u64) -> String {
    const MIB: u64 = 1 << 20;
    if bytes >= MIB || bytes == 0 {
        format!("{}Mi", bytes / MIB)
    } else {
        format!("{}Ki", bytes / 1024)
    }
}

/// Sums a PodMetrics' containers; None if it names no pod.
fn usage_of(obj: &PodUsage) -> Option<(RowKey, Usage)> {
    let key = (
        obj.metadata.namespace.clone().unwrap_or_default(),
        obj.metadata.name.clone()?,
    );
    let mut usage = Usage {
        cpu_millis: 0,
        memory_bytes: 0,
    };
    for &(cpu, mem) in &obj.containers {
        usage.cpu_millis += (cpu * 1000.0).round().max(0.0) as u64;
        usage.memory_bytes += mem.round().max(0.0) as u64;
    }
    Some((key, usage))
}

/// Starts sampling: one message per sample, `Unavailable` once if the
/// cluster has no metrics API (and then it stops). With `feed` (the
/// sparklines' metrics-server source) each list feeds it too, at its
/// period and back-off: one list serves both.
pub(crate) fn spawn_sampler(
    client: &Client,
    namespace: Option<&str>,
    feed: Option<Feed>,
    tx: UnboundedSender<PodMetrics>,
) -> JoinHandle<()> {
    let api = pod_metrics_api(client.clone(), namespace);
    let period = feed.as_ref().map_or(PERIOD, Feed::period);
    let mut failing = false;
    tokio::spawn(sample_pod_metrics(api, period, feed, move |round| {
        match round {
            Round::Listed(items) => {
                if failing {
                    tracing::info!("pod metrics are back");
                    failing = false;
                }
                let sample = items.iter().filter_map(usage_of).collect();
                tx.send(PodMetrics::Sample(sample)).is_ok()
            }
            Round::Unavailable(e) => {
                tracing::info!("no pod metrics from metrics.k8s.io ({e}); CPU and MEM show n/a");
                let _ = tx.send(PodMetrics::Unavailable);
                false
            }
            Round::Failed(e) => {
                // A passing failure: keep the last sample and try again.
                if !failing {
                    tracing::warn!("cannot sample pod metrics: {e}; retrying");
                    failing = true;
                }
                !tx.is_closed()
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::runtime::ChartSource;
    use kubedeck_core::metrics::source::{Backoff, unavailable};
    use kubedeck_core::metrics::{
        Health, Metric, MetricsMsg, MetricsSource, ObjectKind, PrometheusConfig, Queries,
        SamplerOptions, ViewRequest, Window,
    };
    use serde_json::json;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_pods_usage_sums_its_containers_in_any_quantity_format() {
        let obj: PodUsage = serde_json::from_value(json!({
            "apiVersion": "metrics.k8s.io/v1beta1", "kind": "PodMetrics",
            "metadata": {"name": "web-1", "namespace": "shop"},
            "timestamp": "2026-11-24T03:00:00Z", "window": "30s",
            "containers": [
                {"name": "web", "usage": {"cpu": "12000000n", "memory": "40Mi"}},
                {"name": "proxy", "usage": {"cpu": "3m", "memory": "5120Ki"}},
                {"name": "odd", "usage": {"cpu": "bogus"}}
            ]
        }))
        .expect("valid PodMetrics");
        let (key, usage) = usage_of(&obj).expect("names a pod");
        assert_eq!(key, ("shop".to_string(), "web-1".to_string()));
        assert_eq!(usage.cpu_millis, 15);
        assert_eq!(usage.memory_bytes, 45 << 20);
    }

    #[test]
    fn cells_say_dash_while_unknown_and_na_without_a_metrics_api() {
        let key = ("shop".to_string(), "web-1".to_string());
        assert_eq!(PodMetrics::Pending.cells(&key), ("-".into(), "-".into()));
        assert_eq!(
            PodMetrics::Unavailable.cells(&key),
            ("n/a".into(), "n/a".into())
        );
        let sample = PodMetrics::Sample(HashMap::from([(
            key.clone(),
            Usage {
                cpu_millis: 250,
                memory_bytes: 512 * 1024,
            },
        )]));
        assert_eq!(sample.cells(&key), ("250m".into(), "512Ki".into()));
        let other = ("shop".to_string(), "pending-pod".to_string());
        assert_eq!(sample.cells(&other), ("-".into(), "-".into()));
    }

    #[test]
    fn missing_or_forbidden_metrics_stop_sampling_but_other_errors_do_not() {
        let status = |code| {
            kube::Error::Api(Box::new(kube::core::Status {
                code,
                ..Default::default()
            }))
        };
        assert!(unavailable(&status(404)));
        assert!(unavailable(&status(503)));
        assert!(unavailable(&status(403)));
        assert!(!unavailable(&status(500)));
        assert!(!unavailable(&status(429)));
    }

    /// A client for a one-route server that answers every request with
    /// `status` and `body`.
    async fn client_for(status: u16, body: serde_json::Value) -> Client {
        counting_client_for(status, body).await.0
    }

    /// `client_for`, with the number of requests the server has had.
    async fn counting_client_for(
        status: u16,
        body: serde_json::Value,
    ) -> (Client, Arc<AtomicUsize>) {
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let app = axum::Router::new().fallback(move || {
            let body = body.clone();
            counter.fetch_add(1, Ordering::SeqCst);
            async move {
                (
                    http::StatusCode::from_u16(status).expect("valid status"),
                    axum::Json(body),
                )
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        let config = kube::Config::new(url.parse().expect("valid url"));
        (Client::try_from(config).expect("a client"), requests)
    }

    fn one_pod() -> serde_json::Value {
        json!({"kind": "PodMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {},
               "items": [{"metadata": {"name": "web-1", "namespace": "shop"},
                          "timestamp": "2026-11-24T03:00:00Z", "window": "30s",
                          "containers": [{"name": "web", "usage": {"cpu": "7m", "memory": "2Mi"}}]}]})
    }

    #[tokio::test]
    async fn without_prometheus_the_console_lists_pod_metrics_once_per_period() {
        let (client, requests) = counting_client_for(200, one_pod()).await;
        let charts = ChartSource::start(Some("shop"), None, &Queries::default());
        let feed = charts.feed();
        assert!(
            feed.is_some(),
            "metrics-server sparklines take the rows' lists"
        );
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let task = spawn_sampler(&client, Some("shop"), feed, tx);
        assert!(matches!(rx.recv().await, Some(PodMetrics::Sample(_))));
        // A second sampler would list at once too; give it time to show.
        tokio::time::sleep(Duration::from_millis(500)).await;
        task.abort();
        assert_eq!(requests.load(Ordering::SeqCst), 1, "one list, not two");

        let prometheus = PrometheusConfig {
            url: "http://127.0.0.1:9".into(),
            ..PrometheusConfig::default()
        };
        let charts = ChartSource::start(Some("shop"), Some(&prometheus), &Queries::default());
        assert!(charts.feed().is_none(), "Prometheus draws the sparklines");
    }

    #[tokio::test]
    async fn each_list_fills_both_the_pod_rows_and_the_sparkline_history() {
        let (client, requests) = counting_client_for(200, one_pod()).await;
        let (mtx, mut mrx) = tokio::sync::mpsc::unbounded_channel();
        let options = SamplerOptions {
            namespace: Some("shop".into()),
            period: Duration::from_secs(1),
            ..SamplerOptions::default()
        };
        let (source, feed) = MetricsSource::metrics_server_fed(options, Backoff::default(), mtx);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let task = spawn_sampler(&client, Some("shop"), Some(feed), tx);
        for _ in 0..3 {
            let sample = rx.recv().await.expect("a sample");
            assert!(sample.usage(&("shop".into(), "web-1".into())).is_some());
        }
        let held = source.samples_held();
        let listed = requests.load(Ordering::SeqCst);
        task.abort();
        assert_eq!(
            (listed, held),
            (3, 3),
            "each of 3 lists is one sample of web-1"
        );

        let ticket = source.request(ViewRequest {
            view: "pods".into(),
            kind: ObjectKind::Pod,
            namespace: "shop".into(),
            names: vec!["web-1".into()],
            metrics: vec![Metric::Cpu],
            window: Window::M5,
            width: 300,
        });
        let series = loop {
            match mrx.recv().await {
                Some(MetricsMsg::Data { ticket: t, series }) if t == ticket => break series,
                Some(_) => continue,
                None => panic!("the source answers"),
            }
        };
        let cpu = series.object("web-1").map(|o| o.get(Metric::Cpu).to_vec());
        assert!(
            cpu.as_ref()
                .is_some_and(|c| !c.is_empty() && c.iter().all(|p| (p.v - 0.007).abs() < 1e-9)),
            "{cpu:?}"
        );
        assert!(
            source
                .status()
                .describe()
                .starts_with("metrics-server: ok, history since "),
            "{}",
            source.status().describe()
        );
    }

    #[tokio::test]
    async fn a_cluster_without_metrics_is_reported_once_and_sampling_stops() {
        let client = client_for(
            404,
            json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                   "reason": "NotFound", "code": 404, "message": "the server could not find the requested resource"}),
        )
        .await;
        let (mtx, mut mrx) = tokio::sync::mpsc::unbounded_channel();
        let (source, feed) =
            MetricsSource::metrics_server_fed(SamplerOptions::default(), Backoff::default(), mtx);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let task = spawn_sampler(&client, None, Some(feed), tx);
        assert_eq!(rx.recv().await, Some(PodMetrics::Unavailable));
        assert_eq!(rx.recv().await, None, "the sampler stopped");
        assert!(task.await.is_ok());

        // The header hears of it, and is not promised a retry.
        let Some(MetricsMsg::Health(status)) = mrx.recv().await else {
            panic!("a health change");
        };
        assert_eq!(status.health, Health::Unavailable);
        assert_eq!(status.retry_in, None);
        let line = source.status().describe();
        assert!(
            line.starts_with("metrics-server: unavailable (not installed), sampling stopped"),
            "{line}"
        );
        drop(source);
        assert_eq!(mrx.recv().await, None, "nothing more from a stopped source");
    }

    #[tokio::test]
    async fn a_sample_keys_pods_by_namespace_and_name() {
        let client = client_for(
            200,
            json!({"kind": "PodMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {},
                   "items": [{"metadata": {"name": "web-1", "namespace": "shop"},
                              "timestamp": "2026-11-24T03:00:00Z", "window": "30s",
                              "containers": [{"name": "web", "usage": {"cpu": "7m", "memory": "2Mi"}}]}]}),
        )
        .await;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let task = spawn_sampler(&client, Some("shop"), None, tx);
        let sample = rx.recv().await.expect("a sample");
        task.abort();
        assert_eq!(
            sample.usage(&("shop".into(), "web-1".into())),
            Some(Usage {
                cpu_millis: 7,
                memory_bytes: 2 << 20
            })
        );
    }
}
