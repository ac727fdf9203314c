//! A recovery test with a real Prometheus (Debian's package) scraping the
//! simulator: the report carries the service's 5xx ratio and p95 latency
//! over the test's span.

use std::time::{Duration, Instant};

use crate::common::prometheus::Prometheus;
use kubedeck_core::ops::timeline::Report;

const WAIT: Duration = Duration::from_secs(60);

/// Waits until Prometheus has two scrapes of web's request counters, so a
/// 1m rate has an answer.
async fn wait_for_request_rates(prom: &mut Prometheus) {
    let client = prometheus_http_query::Client::try_from(prom.url.as_str()).expect("a URL");
    let start = Instant::now();
    loop {
        prom.check_running();
        let q = r#"sum(rate(http_requests_total{namespace="demo",pod=~"web-.*"}[1m]))"#;
        if let Ok(r) = client.query(q).get().await
            && r.data().as_vector().is_some_and(|v| !v.is_empty())
        {
            return;
        }
        assert!(
            start.elapsed() < WAIT,
            "Prometheus never scraped web's requests"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_carries_the_service_5xx_ratio_and_p95_from_prometheus() {
    let ts = crate::common::start().await;
    crate::common::wait_pods_ready(&ts, "demo", "app=web", 2, None, WAIT).await;
    // Enough traffic that the simulator's baseline 5xx share shows in a 1m rate.
    ts.kubectl(&[
        "annotate",
        "deploy/web",
        "-n",
        "demo",
        "kubedeck.io/load=steady 400rps",
        "--overwrite",
    ])
    .await
    .ok();
    let mut prom = Prometheus::scraping(&ts);
    wait_for_request_rates(&mut prom).await;

    let config_dir = ts.dir.path().join("config/kubedeck");
    std::fs::create_dir_all(&config_dir).expect("config dir");
    std::fs::write(
        config_dir.join("config.toml"),
        format!("[contexts.kubedeck-sim]\nprometheus = \"{}\"\n", prom.url),
    )
    .expect("config.toml");
    let report_file = ts.dir.path().join("kill.json");
    let args = [
        "chaos",
        "pod-kill",
        "deployment/web",
        "-n",
        "demo",
        "--yes",
        "--report",
        report_file.to_str().expect("utf-8 path"),
    ];
    let out = crate::common::kubedeck(&ts, &args).await;
    assert!(
        out.success,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    assert!(
        out.stdout.contains("during the test: peak 5xx ratio"),
        "{}",
        out.stdout
    );

    let report: Report =
        serde_json::from_str(&std::fs::read_to_string(&report_file).expect("the JSON report"))
            .expect("a report");
    let service = report.service.expect("service metrics in the report");
    assert_eq!(service.error, None, "{service:?}");
    assert!(!service.samples.is_empty(), "{service:?}");
    for s in &service.samples {
        assert!(s.at >= report.started - chrono::Duration::seconds(1));
        assert!(s.at <= report.finished + chrono::Duration::seconds(1));
    }
    let ratio = service.max_error_ratio.expect("a 5xx ratio");
    assert!((0.0..=1.0).contains(&ratio) && ratio > 0.0, "{ratio}");
    let p95 = service.max_p95_seconds.expect("a p95 latency");
    assert!(p95 > 0.0 && p95 < 10.0, "{p95}");
    let md = std::fs::read_to_string(report_file.with_extension("md")).expect("markdown");
    assert!(md.contains("## Service during the test"), "{md}");
}
