//! The sparkline data layer against a real Prometheus (the Debian package's
//! binary, started here on 127.0.0.1) scraping an in-process `kubedeck sim`.

use std::time::{Duration, Instant};

use crate::common::prometheus::Prometheus;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;

use kube::Api;
use kube::api::{Patch, PatchParams};
use kubedeck_core::metrics::source::Backoff;
use kubedeck_core::metrics::{
    Health, Metric, MetricsMsg, MetricsSource, ObjectKind, Origin, PrometheusConfig, Queries,
    ViewRequest, ViewSeries, Window,
};
use serde_json::json;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// Prometheus 2.x scrapes a new target only after its discovery delay
/// (5–7 s), and a rate needs two samples.
const DEADLINE: Duration = Duration::from_secs(60);

fn view(kind: ObjectKind, names: &[&str]) -> ViewRequest {
    ViewRequest {
        view: format!("{kind:?}"),
        kind,
        namespace: "demo".into(),
        names: names.iter().map(|n| n.to_string()).collect(),
        metrics: Vec::new(),
        window: Window::M5,
        width: 60,
    }
}

/// Requests `req` once and waits for its answer.
async fn ask(
    src: &MetricsSource,
    rx: &mut UnboundedReceiver<MetricsMsg>,
    req: ViewRequest,
) -> Result<ViewSeries, String> {
    let ticket = src.request(req);
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(15), rx.recv())
            .await
            .map_err(|_| "no answer within 15 s".to_string())?
            .ok_or("channel closed")?;
        match msg {
            MetricsMsg::Data { ticket: t, series } if t == ticket => return Ok((*series).clone()),
            MetricsMsg::Failed { ticket: t, error } if t == ticket => return Err(error),
            _ => {}
        }
    }
}

/// Polls `req` every second until `check` accepts the answer, failing at
/// `DEADLINE` with the last answer.
async fn poll<T>(
    prom: &mut Prometheus,
    src: &MetricsSource,
    rx: &mut UnboundedReceiver<MetricsMsg>,
    req: &ViewRequest,
    what: &str,
    check: impl Fn(&ViewSeries) -> Option<T>,
) -> T {
    let start = Instant::now();
    loop {
        prom.check_running();
        let answer = ask(src, rx, req.clone()).await;
        let last = match &answer {
            Ok(v) => match check(v) {
                Some(t) => return t,
                None => format!("{v:?}"),
            },
            Err(e) => e.clone(),
        };
        assert!(
            start.elapsed() < DEADLINE,
            "{what}: not within {DEADLINE:?}; last answer: {last}; status {}",
            src.status().describe()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn latest(v: &ViewSeries, name: &str, m: Metric) -> Option<f64> {
    v.object(name)?.latest(m)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workload_and_hpa_series_from_a_real_prometheus() {
    let ts = crate::common::start().await;
    let client = ts.client();
    crate::common::create_web_hpa(&ts).await;
    let mut prom = Prometheus::scraping(&ts);
    let (tx, mut rx) = unbounded_channel();
    let config = PrometheusConfig {
        url: prom.url.clone(),
        ..PrometheusConfig::default()
    };
    let src = MetricsSource::prometheus(&config, Queries::default(), Backoff::default(), tx)
        .expect("a Prometheus source");

    // The workload row's series: one batched query per metric.
    let web = view(ObjectKind::Deployment, &["web", "absent"]);
    let (rate0, cpu0) = poll(&mut prom, &src, &mut rx, &web, "web's series", |v| {
        let obj = v.object("web")?;
        let full = [
            Metric::Cpu,
            Metric::Memory,
            Metric::RequestRate,
            Metric::Replicas,
        ]
        .iter()
        .all(|m| !obj.get(*m).is_empty());
        (full && v.object("absent").is_none())
            .then_some((obj.latest(Metric::RequestRate)?, obj.latest(Metric::Cpu)?))
    })
    .await;
    assert!(
        rate0 > 0.0 && rate0 < 100.0,
        "the default load: {rate0} rps"
    );
    assert_eq!(src.status().health, Health::Ok);

    // Raise the simulator's load on web: the latest points rise.
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "demo");
    deployments
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"annotations": {"kubedeck.io/load": "steady 400rps"}}}),
            ),
        )
        .await
        .expect("annotate web");
    let (rate1, cpu1) = poll(&mut prom, &src, &mut rx, &web, "web's rate to rise", |v| {
        let rate = latest(v, "web", Metric::RequestRate)?;
        let cpu = latest(v, "web", Metric::Cpu)?;
        (rate > rate0 * 2.0 && cpu > cpu0 * 1.5).then_some((rate, cpu))
    })
    .await;
    let points = ask(&src, &mut rx, web.clone())
        .await
        .ok()
        .and_then(|v| v.object("web").map(|o| o.get(Metric::RequestRate).to_vec()))
        .unwrap_or_default();
    assert!(
        points.len() <= 60 && points.windows(2).all(|w| w[1].t - w[0].t == 5),
        "one point per 5 s step at 60 columns over 5m: {points:?}"
    );
    eprintln!("web: {rate0:.1} → {rate1:.1} rps, {cpu0:.3} → {cpu1:.3} cores");

    // The HPA chart: replicas and its CPU target as a constant series.
    let hpa_view = view(ObjectKind::Hpa, &["web"]);
    let series = poll(
        &mut prom,
        &src,
        &mut rx,
        &hpa_view,
        "the HPA's series",
        |v| {
            let obj = v.object("web")?;
            (!obj.get(Metric::HpaTarget).is_empty() && !obj.get(Metric::HpaCurrent).is_empty())
                .then(|| obj.clone())
        },
    )
    .await;
    assert_eq!(series.target(), Some(80.0));
    assert!(series.get(Metric::HpaTarget).iter().all(|p| p.v == 80.0));
    assert_eq!(series.latest(Metric::HpaMax), Some(4.0));
    assert_eq!(series.latest(Metric::HpaMin), Some(2.0));
    assert!(series.latest(Metric::HpaCurrent).is_some_and(|n| n >= 2.0));

    // The utilization the HPA measured reaches the chart as the HPA says
    // it (its status), not recomputed from the workload's CPU.
    let hpas: Api<HorizontalPodAutoscaler> = Api::namespaced(client.clone(), "demo");
    let status_util = || async {
        let h = hpas.get("web").await.expect("get the HPA");
        h.status
            .and_then(|s| s.current_metrics)
            .into_iter()
            .flatten()
            .find_map(|m| m.resource?.current.average_utilization)
    };
    let mut measured = view(ObjectKind::Hpa, &["web"]);
    measured.view = "measured".into();
    measured.metrics = vec![Metric::HpaUtilization];
    let mut said = None;
    let mut last = (None, None);
    // A fresh pod counts only after its metrics window, as in kube.
    for _ in 0..120 {
        let Some(want) = status_util().await else {
            last = (None, None);
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        let got = poll(
            &mut prom,
            &src,
            &mut rx,
            &measured,
            "the HPA's utilization",
            |v| latest(v, "web", Metric::HpaUtilization),
        )
        .await;
        last = (Some(want), Some(got));
        if got == f64::from(want) {
            said = Some(got);
            break;
        }
    }
    assert!(
        said.is_some(),
        "the chart's utilization never matched the HPA's status: {last:?}"
    );

    // Hostile names reach Prometheus as data: the queries parse, and match
    // nothing (an injected `or vector(1)` would have answered 1).
    for hostile in [r#""}) or vector(1) #"#, ".*", "a|.*", r"web\", "wéb-☃\n"] {
        let mut req = view(ObjectKind::Pod, &[hostile]);
        req.view = "hostile".into();
        let v = ask(&src, &mut rx, req)
            .await
            .unwrap_or_else(|e| panic!("{hostile:?} must not break the query: {e}"));
        assert!(v.objects.is_empty(), "{hostile:?} matched: {v:?}");
        assert_eq!(v.origin, Origin::Prometheus);
    }
    drop(prom);
}
