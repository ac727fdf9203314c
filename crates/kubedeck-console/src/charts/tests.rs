//! Tests of the console's metrics: sparkline rows and the chart, drawn from
//! series data given as the source would answer, so frames are exact.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ratatui::buffer::Buffer;
use serde_json::json;

use super::request::{DETAIL_VIEW, HPA_VIEW, Requester, SPARK_WIDTH, rows_view, wanted};
use super::{ChartMsg, ChartUi};
use crate::cluster::Cache;
use crate::input::keymap::Keymap;
use crate::state::AppState;
use crate::test_support::{cluster_with_writers, draw, now, resize, screen_text};
use crate::theme::{Role, Theme};
use crate::update::{Msg, update};
use crate::view_model;
use kubedeck_core::metrics::source::{query_range, step_for};
use kubedeck_core::metrics::{
    Health, Metric, MetricsMsg, ObjectKind, ObjectSeries, Origin, Point, SourceStatus, Ticket,
    ViewSeries, Window,
};

struct Console {
    state: AppState,
    cache: Cache,
    keymap: Keymap,
}

fn prometheus_ok() -> SourceStatus {
    SourceStatus {
        origin: Origin::Prometheus,
        endpoint: "http://prometheus:9090".into(),
        health: Health::Ok,
        failures: 0,
        retry_in: None,
        last_error: None,
        history_since: None,
    }
}

/// An object's name and each metric's value at point i.
type Objects<'a> = &'a [(&'a str, &'a [(Metric, fn(f64) -> f64)])];

/// A series over the window's range at `width` columns: `f(i)` at point i.
fn series(kind: ObjectKind, ns: &str, width: u16, objects: Objects<'_>) -> ViewSeries {
    let window = Window::M5;
    let step = step_for(window.duration(), width);
    let (start, end) = query_range(now().timestamp(), window.duration(), step);
    let n = (end - start) / step.as_secs() as i64 + 1;
    let objects = objects
        .iter()
        .map(|(name, metrics)| {
            let mut o = ObjectSeries::default();
            for (m, f) in metrics.iter() {
                let points = (0..n)
                    .map(|i| Point {
                        t: start + i * step.as_secs() as i64,
                        v: f(i as f64),
                    })
                    .collect();
                o.series.insert(*m, points);
            }
            (name.to_string(), o)
        })
        .collect::<BTreeMap<_, _>>();
    ViewSeries {
        kind,
        namespace: ns.into(),
        window,
        step,
        start,
        end,
        objects,
        origin: Origin::Prometheus,
        history_since: None,
    }
}

impl Console {
    /// The test cluster, with shop/web asking 100m CPU per pod.
    fn new() -> Console {
        let (cache, mut writers) = cluster_with_writers();
        writers
            .apply_json(&json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "shop", "uid": "uid-shop-web",
                             "creationTimestamp": (now() - chrono::Duration::days(1)).to_rfc3339()},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                         "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                             {"name": "web", "image": "web:1.0",
                              "resources": {"requests": {"cpu": "100m"}}}]}}},
                "status": {"replicas": 2, "readyReplicas": 2, "updatedReplicas": 2, "availableReplicas": 2}
            }))
            .expect("web is valid");
        let keymap = Keymap::built_in_default();
        let mut state = AppState::new("kind-test", None, false);
        update(&mut state, resize(34), &cache, &keymap, now());
        Console {
            state,
            cache,
            keymap,
        }
    }

    fn keys(&mut self, keys: &[&str]) -> &mut Console {
        for k in keys {
            let key = k.parse().expect("test key parses");
            update(
                &mut self.state,
                Msg::Key(key),
                &self.cache,
                &self.keymap,
                now(),
            );
        }
        self
    }

    fn answer(&mut self, view: &str, v: ViewSeries) -> &mut Console {
        let msg = ChartMsg {
            msg: MetricsMsg::Data {
                ticket: Ticket {
                    view: Arc::from(view),
                    generation: 1,
                },
                series: Arc::new(v),
            },
            status: prometheus_ok(),
            problem: None,
        };
        update(
            &mut self.state,
            Msg::Charts(msg),
            &self.cache,
            &self.keymap,
            now(),
        );
        self
    }

    fn draw(&self, width: u16) -> Buffer {
        draw(&self.state, &self.cache, &self.keymap, width, 34)
    }
}

/// The screen's rows, joined without a newline after the last.
fn text(buf: &Buffer) -> String {
    let text = screen_text(buf);
    text.strip_suffix('\n').unwrap_or(&text).to_string()
}

fn rising(i: f64) -> f64 {
    0.05 + i * 0.02
}

fn memory(i: f64) -> f64 {
    (100.0 + (i * 1.3).sin() * 20.0) * 1048576.0
}

fn rate(i: f64) -> f64 {
    if i < 5.0 { 20.0 } else { 80.0 }
}

#[test]
fn workload_rows_carry_sparklines_and_a_dim_placeholder_without_data() {
    let mut c = Console::new();
    c.keys(&["2"]);
    c.answer(
        &rows_view(ObjectKind::Deployment, "shop"),
        series(
            ObjectKind::Deployment,
            "shop",
            SPARK_WIDTH,
            &[(
                "web",
                &[
                    (Metric::Cpu, rising),
                    (Metric::Memory, memory),
                    (Metric::RequestRate, rate),
                ],
            )],
        ),
    );
    let buf = c.draw(170);
    let shown = text(&buf);
    let web = shown
        .lines()
        .find(|l| l.contains("web:1.0"))
        .unwrap_or_default();
    assert!(web.contains("▁▂▃▃▄▅▆▆▇█"), "CPU rises: {web}");
    assert!(web.contains("▁▁▁▁▁█████"), "the rate steps up: {web}");
    let api = shown
        .lines()
        .find(|l| l.contains(" api "))
        .unwrap_or_default();
    assert!(api.contains("··········"), "no data, a placeholder: {api}");
    let x = web.chars().position(|ch| ch == '▁').unwrap_or(0) as u16;
    let y = shown
        .lines()
        .position(|l| l.contains("web:1.0"))
        .unwrap_or(0) as u16;
    let theme = Theme::load(None, None, false).0;
    assert_eq!(
        buf[(x, y)].fg,
        theme.style(Role::Sparkline).fg.unwrap_or_default()
    );
    insta::assert_snapshot!(shown);
}

/// The HPA view with shop/web (after payments/ledger) selected.
fn hpa_console() -> Console {
    let mut c = Console::new();
    c.keys(&["4", "j"]);
    c.answer(
        DETAIL_VIEW,
        series(
            ObjectKind::Deployment,
            "shop",
            super::request::plot_width(150),
            &[(
                "web",
                &[
                    (Metric::Cpu, |i| 0.06 + i * 0.0025),
                    (Metric::Replicas, |i| if i < 40.0 { 2.0 } else { 3.0 }),
                ],
            )],
        ),
    );
    c
}

#[test]
fn the_hpa_chart_shows_cpu_against_its_target_with_now_min_and_max() {
    let mut c = hpa_console();
    assert!(
        !text(&c.draw(150)).contains("── 70%"),
        "the chart is off until asked for"
    );
    c.keys(&["m"]);
    let shown = text(&c.draw(150));
    assert!(shown.contains("hpa/web · last 5m"), "{shown}");
    assert!(
        shown.contains("target 70%"),
        "the target line's legend: {shown}"
    );
    assert!(shown.contains("── 70%"), "{shown}");
    assert!(shown.contains("now 2  (min 1, max 2)"), "replicas: {shown}");
    assert!(shown.contains("min 30%"), "0.06 cores of 2×100m: {shown}");
    insta::assert_snapshot!(shown);

    // The target line spans the plot at 70% of the axis' range.
    let vm = view_model::build(&c.state, &c.cache, &c.keymap, now());
    let chart = vm.chart.expect("a chart");
    let target = chart
        .series
        .iter()
        .find(|s| s.role == Role::SparklineTarget)
        .expect("a target series");
    assert_eq!(target.points, vec![(-300.0, 70.0), (0.0, 70.0)]);
    assert!(chart.y_bounds[1] > 70.0);
}

/// The case: the workload's CPU over its requests read 23 % while
/// the HPA said 76 %. With the HPA's own measurement at hand (Prometheus,
/// kube-state-metrics), the chart shows that.
#[test]
fn the_hpa_chart_shows_what_the_hpa_measured_when_prometheus_has_it() {
    let mut c = hpa_console();
    c.keys(&["m"]);
    let asked = wanted(&c.state, &c.cache, 150);
    let hpa = asked
        .iter()
        .find(|r| r.view == HPA_VIEW)
        .expect("the HPA's own series is asked for");
    assert_eq!(
        (hpa.kind, hpa.names.as_slice(), hpa.metrics.as_slice()),
        (
            ObjectKind::Hpa,
            &["web".to_string()][..],
            &[Metric::HpaUtilization][..]
        )
    );
    let computed = text(&c.draw(150));
    assert!(!computed.contains("now 76%"), "{computed}");
    c.answer(
        HPA_VIEW,
        series(
            ObjectKind::Hpa,
            "shop",
            super::request::plot_width(150),
            &[("web", &[(Metric::HpaUtilization, |_| 76.0)])],
        ),
    );
    let shown = text(&c.draw(150));
    assert!(shown.contains("now 76%  min 76%  max 76%"), "{shown}");
}

#[test]
fn the_window_key_cycles_and_asks_again_with_its_step() {
    let mut c = hpa_console();
    c.keys(&["m"]);
    let first = wanted(&c.state, &c.cache, 150);
    let detail = first
        .iter()
        .find(|r| r.view == DETAIL_VIEW)
        .expect("the chart's request");
    assert_eq!(
        (
            detail.kind,
            detail.names.as_slice(),
            detail.metrics.as_slice()
        ),
        (
            ObjectKind::Deployment,
            &["web".to_string()][..],
            &[Metric::Cpu, Metric::Replicas][..]
        ),
        "an HPA's chart asks for its workload"
    );
    let rows: Vec<_> = first
        .iter()
        .filter(|r| r.view != DETAIL_VIEW && r.view != HPA_VIEW)
        .collect();
    assert_eq!(rows.len(), 2, "one request per namespace: {rows:?}");
    assert!(
        rows.iter()
            .all(|r| r.names.len() == 1 && r.width == SPARK_WIDTH)
    );

    let mut requester = Requester::default();
    let t0 = tokio::time::Instant::now();
    let (sent, next) = requester.due(first.clone(), t0);
    assert_eq!(sent.len(), 4, "two rows, the workload and the HPA itself");
    let step = step_for(Window::M5.duration(), detail.width);
    assert_eq!(next, Some(t0 + step), "the chart's step is the shortest");
    let (again, _) = requester.due(first.clone(), t0 + step / 2);
    assert!(again.is_empty(), "fresh answers are not asked again");
    let (stale, _) = requester.due(first, t0 + step);
    assert_eq!(
        stale.len(),
        2,
        "the chart's answers are a step old: {stale:?}"
    );

    c.keys(&["w"]);
    assert_eq!(
        c.state.charts,
        ChartUi {
            window: Window::M15,
            shown: true
        }
    );
    let next = wanted(&c.state, &c.cache, 150);
    let (sent, _) = requester.due(next, t0 + step);
    assert_eq!(sent.len(), 4, "a new window is a new question");
    assert!(sent.iter().all(|r| r.window == Window::M15));
    assert!(
        !text(&c.draw(150)).contains("▁"),
        "5m series are not drawn as 15m ones"
    );
    c.keys(&["w", "w", "w"]);
    assert_eq!(c.state.charts.window, Window::M5);
}

#[test]
fn the_header_counts_a_retry_down_and_names_the_source() {
    let mut c = Console::new();
    let down = SourceStatus {
        health: Health::Down,
        failures: 2,
        retry_in: Some(Duration::from_millis(3500)),
        last_error: Some("connection refused".into()),
        ..prometheus_ok()
    };
    update(
        &mut c.state,
        Msg::Charts(ChartMsg {
            msg: MetricsMsg::Health(down.clone()),
            status: down,
            problem: None,
        }),
        &c.cache,
        &c.keymap,
        now(),
    );
    let data = &c.state.chart_data;
    assert_eq!(
        data.status_line(now()).map(|s| s.0),
        Some("metrics: prometheus http://prometheus:9090: down, retry in 4s".into())
    );
    assert_eq!(
        data.status_line(now() + chrono::Duration::seconds(2))
            .map(|s| s.0),
        Some("metrics: prometheus http://prometheus:9090: down, retry in 2s".into())
    );
    assert_eq!(
        data.status_line(now() + chrono::Duration::seconds(9))
            .map(|s| s.0),
        Some("metrics: prometheus http://prometheus:9090: down, retrying".into())
    );
    assert_eq!(
        data.refresh_at(now()),
        Some(now() + chrono::Duration::milliseconds(500))
    );
    let first = text(&c.draw(150));
    assert!(
        first
            .lines()
            .next()
            .unwrap_or_default()
            .contains("down, retry in 4s"),
        "{first}"
    );
}

#[test]
fn a_narrow_terminal_drops_sparklines_before_it_cuts_text() {
    let mut plain = Console::new();
    plain.keys(&["2"]);
    let mut with = Console::new();
    with.keys(&["2"]);
    with.answer(
        &rows_view(ObjectKind::Deployment, "shop"),
        series(
            ObjectKind::Deployment,
            "shop",
            SPARK_WIDTH,
            &[("web", &[(Metric::Cpu, rising)])],
        ),
    );
    // Below the header, breadcrumb and title (which names the window).
    let body = |c: &Console, w: u16| -> Vec<String> {
        text(&c.draw(w))
            .lines()
            .skip(3)
            .map(str::to_string)
            .collect()
    };
    assert_eq!(body(&with, 120), body(&plain, 120));
    // Sparklines come last: as many as fit beside whole text columns.
    let mid = body(&with, 130).join("\n");
    assert!(mid.contains("CPU~") && !mid.contains("MEM~"), "{mid}");
    for whole in ["Deployment", "StatefulSet", "worker:9.9", "6d5f7b8c9"] {
        assert!(mid.contains(whole), "{whole} is cut:\n{mid}");
    }
    let wide = body(&with, 170).join("\n");
    assert!(wide.contains("CPU~") && wide.contains("REQ/S~"), "{wide}");
}

#[test]
fn metrics_server_views_are_asked_again_each_sampling_period() {
    let mut c = Console::new();
    c.keys(&["1"]);
    let want = wanted(&c.state, &c.cache, 150);
    assert!(
        want.iter()
            .all(|r| r.kind == ObjectKind::Pod && r.width == SPARK_WIDTH)
    );
    let mut requester = Requester::with_cap(Some(Duration::from_secs(15)));
    let t0 = tokio::time::Instant::now();
    let (sent, next) = requester.due(want.clone(), t0);
    assert_eq!(sent.len(), want.len());
    assert_eq!(
        next,
        Some(t0 + Duration::from_secs(15)),
        "not the 30 s step"
    );
    requester.reset();
    let (again, _) = requester.due(want, t0 + Duration::from_secs(1));
    assert_eq!(again.len(), sent.len(), "a reset asks for everything");
}
