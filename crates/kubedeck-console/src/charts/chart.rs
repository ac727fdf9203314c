//! The view models of metrics: sparkline cells for the visible rows, and
//! the chart of the selected object with its current value, min/max over
//! the window and, for an HPA, its CPU target as a line. `draw` only draws
//! what these computed.

use kube::runtime::reflector::ObjectRef as StoreRef;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::Span;
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, LegendPosition, Paragraph};

use super::request::{
    DETAIL_VIEW, HPA_VIEW, SPARK_WIDTH, hpa_target, row_metrics, row_object, rows_view,
};
use super::spark::{PLACEHOLDER, format, label, sparkline};
use crate::cluster::Cache;
use crate::state::AppState;
use crate::theme::{Role, Theme};
use crate::views::{Cell, Column, Keep, RowKey, col};
use crate::widgets::{styled_lines, titled_block};
use kubedeck_core::metrics::{Metric, ObjectKind, ObjectSeries, Origin, Point, ViewSeries};
use kubedeck_kube::quantity::parse_quantity;

/// The chart pane's height, borders included.
pub(crate) const CHART_HEIGHT: u16 = 12;

/// Width of the sparklines in the chart's list of metrics.
const LIST_SPARK: usize = 16;

/// Whether rows of the current view carry sparklines: a metrics source is
/// running and the view lists workloads, HPAs or pods.
fn sparkline_view(state: &AppState) -> Option<ObjectKind> {
    let screen = state.screen();
    state.chart_data.status.as_ref()?;
    let probe = match screen.view {
        crate::input::action::View::Workloads => ("", "Deployment/x"),
        _ => ("", "x"),
    };
    let key = (probe.0.to_string(), probe.1.to_string());
    row_object(screen.view, &screen.query.scope, &key).map(|(k, _)| k)
}

fn header(metric: Metric) -> &'static str {
    match metric {
        Metric::Cpu => "CPU~",
        Metric::Memory => "MEM~",
        Metric::RequestRate => "REQ/S~",
        Metric::Restarts => "RESTARTS~",
        Metric::HpaCurrent => "REPLICAS~",
        _ => "~",
    }
}

/// The table layout drops sparklines before any text column (READY, AGE).
const SPARK_PRIORITY: u8 = 9;

/// The sparkline columns the current view adds to its table.
pub(crate) fn columns(state: &AppState) -> Vec<Column> {
    sparkline_view(state).map_or_else(Vec::new, |kind| {
        row_metrics(kind)
            .iter()
            .map(|m| {
                col(header(*m), SPARK_WIDTH, false)
                    .keep(Keep::Whole)
                    .priority(SPARK_PRIORITY)
            })
            .collect()
    })
}

/// The table title's note of the window, when sparklines show.
pub(crate) fn title_note(state: &AppState) -> Option<String> {
    sparkline_view(state).map(|_| format!(" ~{}", state.charts.window.label()))
}

fn placeholder(width: usize) -> Cell {
    Cell::new(PLACEHOLDER.to_string().repeat(width), Role::Muted)
}

/// The sparkline cells of one visible row, in `columns`' order.
pub(crate) fn row_cells(state: &AppState, key: &RowKey) -> Vec<Cell> {
    let Some(view_kind) = sparkline_view(state) else {
        return Vec::new();
    };
    let width = usize::from(SPARK_WIDTH);
    let screen = state.screen();
    let data = &state.chart_data;
    let object = row_object(screen.view, &screen.query.scope, key).and_then(|(kind, name)| {
        let v = data.view(&rows_view(kind, &key.0))?;
        (v.window == state.charts.window).then_some(())?;
        Some((v, v.object(&name)?))
    });
    row_metrics(view_kind)
        .iter()
        .map(|m| {
            object
                .and_then(|(v, o)| sparkline(o.get(*m), v.start, v.end, width))
                .map_or_else(|| placeholder(width), |s| Cell::new(s, Role::Sparkline))
        })
        .collect()
}

/// One line of the plot.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesVm {
    pub name: String,
    pub role: Role,
    /// (seconds relative to the window's end, value).
    pub points: Vec<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChartVm {
    pub(crate) title: String,
    /// What the plot shows, with its unit.
    pub(crate) plot_title: String,
    pub series: Vec<SeriesVm>,
    pub(crate) x_bounds: [f64; 2],
    pub(crate) x_labels: Vec<String>,
    pub(crate) y_bounds: [f64; 2],
    pub(crate) y_labels: Vec<String>,
    /// Beside the plot: the current value, min/max, target, other metrics.
    pub(crate) lines: Vec<Vec<Cell>>,
}

/// The selected object's chart, when shown.
pub(crate) fn build(state: &AppState, cache: &Cache) -> Option<ChartVm> {
    let screen = state.screen();
    if !state.charts.shown || screen.covered() {
        return None;
    }
    let key = screen.selected_key()?;
    let (kind, name) = row_object(screen.view, &screen.query.scope, key)?;
    let data = &state.chart_data;
    let (series_kind, series_name) = match kind {
        ObjectKind::Hpa => hpa_target(cache, key).unwrap_or((kind, name.clone())),
        _ => (kind, name.clone()),
    };
    let view = data.view(DETAIL_VIEW).filter(|v| {
        v.kind == series_kind && v.namespace == key.0 && v.window == state.charts.window
    });
    let object = view.and_then(|v| v.object(&series_name));
    let window = state.charts.window;
    let short = match kind {
        ObjectKind::Deployment => "deploy",
        ObjectKind::StatefulSet => "sts",
        ObjectKind::Pod => "pod",
        ObjectKind::Hpa => "hpa",
    };
    let measured = data
        .view(HPA_VIEW)
        .filter(|v| v.kind == ObjectKind::Hpa && v.namespace == key.0 && v.window == window)
        .and_then(|v| v.object(&name))
        .map(|o| o.get(Metric::HpaUtilization))
        .filter(|p| !p.is_empty());
    let mut vm = match kind {
        ObjectKind::Hpa => hpa_chart(cache, key, view, object, measured),
        _ => usage_chart(kind, view, object),
    };
    vm.title = format!("{short}/{name} · last {}", window.label());
    let secs = window.duration().as_secs() as f64;
    vm.x_bounds = [-secs, 0.0];
    vm.x_labels = vec![format!("-{}", window.label()), "now".into()];
    let note = match (data.errors.get(DETAIL_VIEW), view) {
        (Some(e), _) => Some(Cell::new(e.clone(), Role::Warning)),
        (None, None) => Some(Cell::new("waiting for data…", Role::Muted)),
        (None, Some(v)) if object.is_none() => Some(Cell::new(
            format!("no series for {series_name} in {}", v.namespace),
            Role::Muted,
        )),
        _ => None,
    };
    if let Some(n) = note {
        vm.lines.push(vec![n]);
    }
    if let Some(since) = view.and_then(|v| v.history_since) {
        vm.lines.push(vec![Cell::new(
            format!(
                "metrics-server: history since {} only",
                since.format("%H:%M:%S UTC")
            ),
            Role::Muted,
        )]);
    }
    Some(vm)
}

fn relative(points: &[Point], end: i64) -> Vec<(f64, f64)> {
    points.iter().map(|p| ((p.t - end) as f64, p.v)).collect()
}

fn empty(plot_title: String) -> ChartVm {
    ChartVm {
        title: String::new(),
        plot_title,
        series: Vec::new(),
        x_bounds: [0.0, 0.0],
        x_labels: Vec::new(),
        y_bounds: [0.0, 1.0],
        y_labels: Vec::new(),
        lines: Vec::new(),
    }
}

/// Bounds and labels from 0 to a bit above the highest value shown.
fn y_axis(vm: &mut ChartVm, hi: f64, fmt: impl Fn(f64) -> String) {
    let top = if hi > 0.0 { hi * 1.15 } else { 1.0 };
    vm.y_bounds = [0.0, top];
    vm.y_labels = vec![fmt(0.0), fmt(top / 2.0), fmt(top)];
}

/// "cpu  ▁▂▅▇  now 120m  min 80m  max 300m"
fn metric_line(metric: Metric, view: &ViewSeries, obj: &ObjectSeries) -> Vec<Cell> {
    let mut cells = vec![Cell::new(format!("{:<9}", label(metric)), Role::Muted)];
    match sparkline(obj.get(metric), view.start, view.end, LIST_SPARK) {
        Some(s) => cells.push(Cell::new(s, Role::Sparkline)),
        None => cells.push(placeholder(LIST_SPARK)),
    }
    let text = match (obj.latest(metric), obj.min_max(metric)) {
        (Some(now), Some((lo, hi))) => format!(
            "  now {}  min {}  max {}",
            format(metric, now),
            format(metric, lo),
            format(metric, hi)
        ),
        _ if view.origin == Origin::MetricsServer
            && !matches!(metric, Metric::Cpu | Metric::Memory) =>
        {
            "  needs Prometheus".into()
        }
        _ => "  no data".into(),
    };
    cells.push(Cell::text(text));
    cells
}

/// A workload's or pod's chart: CPU plotted, every metric listed.
fn usage_chart(kind: ObjectKind, view: Option<&ViewSeries>, obj: Option<&ObjectSeries>) -> ChartVm {
    let mut vm = empty("cpu (cores)".into());
    if let (Some(v), Some(o)) = (view, obj) {
        let cpu = o.get(Metric::Cpu);
        vm.series.push(SeriesVm {
            name: "cpu".into(),
            role: Role::Sparkline,
            points: relative(cpu, v.end),
        });
        let hi = o.min_max(Metric::Cpu).map_or(0.0, |(_, hi)| hi);
        y_axis(&mut vm, hi, |x| format(Metric::Cpu, x));
        vm.lines = Metric::for_kind(kind)
            .iter()
            .map(|m| metric_line(*m, v, o))
            .collect();
    } else {
        y_axis(&mut vm, 0.0, |x| format(Metric::Cpu, x));
    }
    vm
}

/// The summed CPU request of a workload's pod template, in cores.
fn cpu_request(cache: &Cache, namespace: &str, kind: ObjectKind, name: &str) -> Option<f64> {
    let template = match kind {
        ObjectKind::Deployment => {
            let d = cache
                .deployments
                .get(&StoreRef::new(name).within(namespace))?;
            d.spec.as_ref()?.template.as_ref()?.spec()?
        }
        ObjectKind::StatefulSet => {
            let s = cache
                .statefulsets
                .get(&StoreRef::new(name).within(namespace))?;
            s.spec.as_ref()?.template.clone()
        }
        _ => return None,
    };
    let total: f64 = template
        .spec?
        .containers
        .iter()
        .filter_map(|c| c.resources.as_ref()?.requests.as_ref()?.get("cpu"))
        .filter_map(|q| parse_quantity(&q.0))
        .sum();
    (total > 0.0).then_some(total)
}

/// An HPA's chart: the CPU utilization the HPA controller measured (from
/// kube-state-metrics, so the two cannot disagree), else its workload's CPU
/// as a percentage of the pods' requests; against the target as a line.
fn hpa_chart(
    cache: &Cache,
    key: &RowKey,
    view: Option<&ViewSeries>,
    obj: Option<&ObjectSeries>,
    measured: Option<&[Point]>,
) -> ChartVm {
    let mut vm = empty("cpu % of request".into());
    let Some(h) = crate::views::hpas::get(cache, key) else {
        return vm;
    };
    let target = crate::views::hpas::metrics(&h)
        .into_iter()
        .find(|m| m.name == "cpu" && m.percent)
        .and_then(|m| m.target)
        .or_else(|| obj.and_then(ObjectSeries::target));
    let status = h.status.as_ref();
    let current_replicas = status.and_then(|s| s.current_replicas).unwrap_or(0);
    let (min, max) = (
        h.spec.as_ref().and_then(|s| s.min_replicas).unwrap_or(1),
        h.spec.as_ref().map_or(0, |s| s.max_replicas),
    );
    let per_pod = hpa_target(cache, key).and_then(|(k, n)| cpu_request(cache, &key.0, k, &n));
    let mut hi = target.unwrap_or(0.0);
    let mut util: Vec<Point> = measured.map(<[Point]>::to_vec).unwrap_or_default();
    if let (None, Some(o), Some(req)) = (measured, obj, per_pod) {
        let replicas = o.get(Metric::Replicas);
        util = o
            .get(Metric::Cpu)
            .iter()
            .filter_map(|p| {
                let n = replicas
                    .iter()
                    .rev()
                    .find(|r| r.t <= p.t)
                    .map(|r| r.v)
                    .unwrap_or(f64::from(current_replicas));
                (n > 0.0).then(|| Point {
                    t: p.t,
                    v: p.v / (n * req) * 100.0,
                })
            })
            .collect();
    }
    let (start, end) = view.map_or((0, 0), |v| (v.start, v.end));
    if let Some(v) = view {
        vm.series.push(SeriesVm {
            name: "cpu".into(),
            role: Role::Sparkline,
            points: relative(&util, v.end),
        });
    }
    let pct = |x: f64| format!("{x:.0}%");
    let mut first = vec![Cell::new(format!("{:<9}", "cpu"), Role::Muted)];
    match sparkline(&util, start, end, LIST_SPARK) {
        Some(s) => first.push(Cell::new(s, Role::Sparkline)),
        None => first.push(placeholder(LIST_SPARK)),
    }
    let lo_hi = util.iter().fold(None, |acc: Option<(f64, f64)>, p| {
        Some(acc.map_or((p.v, p.v), |(lo, hi)| (lo.min(p.v), hi.max(p.v))))
    });
    first.push(Cell::text(match (util.last(), lo_hi) {
        (Some(now), Some((lo, h))) => {
            hi = hi.max(h);
            format!("  now {}  min {}  max {}", pct(now.v), pct(lo), pct(h))
        }
        _ if per_pod.is_none() && measured.is_none() => "  no CPU request to compare with".into(),
        _ => "  no data".into(),
    }));
    vm.lines.push(first);
    if let Some(t) = target {
        vm.lines.push(vec![
            Cell::new(format!("{:<9}", "target"), Role::Muted),
            Cell::new(format!("── {}", pct(t)), Role::SparklineTarget),
        ]);
        vm.series.push(SeriesVm {
            name: format!("target {}", pct(t)),
            role: Role::SparklineTarget,
            points: vec![(-(window_secs(view)), t), (0.0, t)],
        });
    }
    let mut replicas = vec![Cell::new(format!("{:<9}", "replicas"), Role::Muted)];
    match obj.and_then(|o| sparkline(o.get(Metric::Replicas), start, end, LIST_SPARK)) {
        Some(s) => replicas.push(Cell::new(s, Role::Sparkline)),
        None => replicas.push(placeholder(LIST_SPARK)),
    }
    replicas.push(Cell::text(format!(
        "  now {current_replicas}  (min {min}, max {max})"
    )));
    vm.lines.push(replicas);
    y_axis(&mut vm, hi, pct);
    vm
}

fn window_secs(view: Option<&ViewSeries>) -> f64 {
    view.map_or(300.0, |v| v.window.duration().as_secs() as f64)
}

/// Draws the chart pane: the plot on the left, the list on the right.
pub(crate) fn draw(frame: &mut Frame, area: Rect, vm: &ChartVm, theme: &Theme) {
    let block = titled_block(&vm.title, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [plot, list] =
        Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(inner);
    let datasets: Vec<Dataset> = vm
        .series
        .iter()
        .map(|s| {
            Dataset::default()
                .name(s.name.as_str())
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(theme.style(s.role))
                .data(&s.points)
        })
        .collect();
    let axis_style = theme.style(Role::Muted);
    let chart = Chart::new(datasets)
        .x_axis(
            Axis::default()
                .style(axis_style)
                .bounds(vm.x_bounds)
                .labels(vm.x_labels.iter().map(|l| Span::raw(l.as_str()))),
        )
        .y_axis(
            Axis::default()
                .style(axis_style)
                .title(Span::styled(vm.plot_title.as_str(), axis_style))
                .bounds(vm.y_bounds)
                .labels(vm.y_labels.iter().map(|l| Span::raw(l.as_str()))),
        )
        .legend_position(Some(LegendPosition::TopLeft))
        .hidden_legend_constraints((Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)));
    frame.render_widget(chart, plot);
    let lines = styled_lines(&vm.lines, theme);
    frame.render_widget(Paragraph::new(lines).style(theme.style(Role::Text)), list);
}
