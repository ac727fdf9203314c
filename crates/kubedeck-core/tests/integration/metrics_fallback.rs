//! Without a usable Prometheus: CPU and memory history from the simulator's
//! metrics.k8s.io, and a Prometheus that is down never holding up the
//! caller while its back-off grows.

use std::time::{Duration, Instant};

use kubedeck_core::metrics::source::Backoff;
use kubedeck_core::metrics::{
    Health, Metric, MetricsMsg, MetricsSource, ObjectKind, Origin, PrometheusConfig, Queries,
    SamplerOptions, ViewRequest, Window,
};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

fn view(kind: ObjectKind, names: &[&str]) -> ViewRequest {
    ViewRequest {
        view: "rows".into(),
        kind,
        namespace: "demo".into(),
        names: names.iter().map(|n| n.to_string()).collect(),
        metrics: Vec::new(),
        window: Window::M5,
        width: 60,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_prometheus_ring_buffers_fill_from_metrics_k8s_io() {
    let ts = crate::common::start().await;
    let (tx, mut rx) = unbounded_channel();
    let options = SamplerOptions {
        period: Duration::from_millis(500),
        capacity: 4,
        namespace: Some("demo".into()),
        ..SamplerOptions::default()
    };
    let src = MetricsSource::metrics_server(ts.client(), options, Backoff::default(), tx);
    let started = chrono::Utc::now();

    // Two web pods sampled for more rounds than a buffer holds.
    let deadline = Instant::now() + Duration::from_secs(45);
    let series = loop {
        let ticket = src.request(view(ObjectKind::Deployment, &["web"]));
        let answer = next_answer(&mut rx).await;
        let MetricsMsg::Data { ticket: t, series } = answer else {
            panic!("the fallback answers with data: {answer:?}");
        };
        assert_eq!(t, ticket);
        let rounds = series.object("web").map_or(0, |o| {
            o.get(Metric::Cpu).len().min(o.get(Metric::Memory).len())
        });
        if rounds >= 2 && src.samples_held() >= 8 {
            break series;
        }
        assert!(
            Instant::now() < deadline,
            "no CPU/memory history for web: {series:?}; {}",
            src.status().describe()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(series.origin, Origin::MetricsServer);
    let since = series.history_since.expect("says where history starts");
    assert!(
        (since - started).num_seconds().abs() <= 2,
        "{since} vs {started}"
    );
    let web = series.object("web").expect("web");
    assert!(web.get(Metric::Cpu).iter().all(|p| p.v > 0.0), "{web:?}");
    assert!(
        web.get(Metric::Memory).iter().all(|p| p.v > 1_048_576.0),
        "{web:?}"
    );
    assert!(web.get(Metric::RequestRate).is_empty());

    // Bounded: once sampling has gone on past the oldest sample (it was
    // evicted), each pod still holds at most 4 samples.
    let first = |s: &kubedeck_core::metrics::ViewSeries| {
        s.object("web")
            .and_then(|o| o.get(Metric::Cpu).first().map(|p| p.t))
    };
    let oldest = first(&series);
    let deadline = Instant::now() + Duration::from_secs(45);
    loop {
        let ticket = src.request(view(ObjectKind::Deployment, &["web"]));
        if let MetricsMsg::Data { ticket: t, series } = next_answer(&mut rx).await
            && t == ticket
            && first(&series) > oldest
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "web's oldest sample was never evicted"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let held = src.samples_held();
    assert_eq!(held, 4 * 2, "4 samples for each of web's 2 pods");

    let status = src.status();
    assert_eq!(status.health, Health::Ok);
    assert!(
        status
            .describe()
            .starts_with("metrics-server: ok, history since "),
        "{}",
        status.describe()
    );
}

async fn next_answer(rx: &mut UnboundedReceiver<MetricsMsg>) -> MetricsMsg {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
            Ok(Some(MetricsMsg::Health(_))) => continue,
            Ok(Some(msg)) => return msg,
            other => panic!("no answer: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_prometheus_is_reported_at_once_and_retried_with_growing_backoff() {
    let closed = kubedeck_sim::testing::ClosedPort::new();
    let config = PrometheusConfig {
        url: format!("http://127.0.0.1:{}", closed.port()),
        ..PrometheusConfig::default()
    };
    let backoff = Backoff {
        base: Duration::from_millis(300),
        cap: Duration::from_secs(2),
    };
    let (tx, mut rx) = unbounded_channel();
    let src = MetricsSource::prometheus(&config, Queries::default(), backoff, tx)
        .expect("a Prometheus source");
    let req = view(ObjectKind::Pod, &["web-1"]);

    let ticket = src.request(req.clone());
    let mut saw_health = false;
    loop {
        match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
            Ok(Some(MetricsMsg::Health(s))) => {
                assert_eq!(s.health, Health::Down);
                assert!(s.describe().contains(": down"), "{}", s.describe());
                saw_health = true;
            }
            Ok(Some(MetricsMsg::Failed { ticket: t, .. })) => {
                assert_eq!(t, ticket);
                break;
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }
    assert!(saw_health, "the health change is announced");

    // While backing off nothing is sent, and the answer is immediate.
    let t = src.request(req.clone());
    match tokio::time::timeout(Duration::from_millis(100), rx.recv()).await {
        Ok(Some(MetricsMsg::Failed { ticket, error })) => {
            assert_eq!(ticket, t);
            assert!(error.contains("retrying in"), "{error}");
        }
        other => panic!("an immediate refusal: {other:?}"),
    }

    // Each failed retry lengthens the wait: 300 ms, 600 ms, 1.2 s, 2 s cap.
    let mut waits = Vec::new();
    for _ in 0..4 {
        let s = src.status();
        assert_eq!(s.health, Health::Down);
        let wait = s.retry_in.expect("a retry time");
        waits.push((s.failures, wait));
        tokio::time::sleep(wait + Duration::from_millis(20)).await;
        let t = src.request(req.clone());
        loop {
            match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
                Ok(Some(MetricsMsg::Failed { ticket, .. })) if ticket == t => break,
                Ok(Some(_)) => continue,
                other => panic!("a failed retry: {other:?}"),
            }
        }
    }
    let failures: Vec<u32> = waits.iter().map(|w| w.0).collect();
    assert_eq!(failures, vec![1, 2, 3, 4], "{waits:?}");
    let ms: Vec<u128> = waits.iter().map(|w| w.1.as_millis()).collect();
    assert!(
        ms[0] <= 300 && ms[1] > 300 && ms[2] > 600 && ms[3] <= 2000 && ms[3] > 1200,
        "the back-off grows to its cap: {ms:?}"
    );
    let last = src.status();
    assert_eq!(last.failures, 5);
    assert!(last.last_error.is_some());
}
