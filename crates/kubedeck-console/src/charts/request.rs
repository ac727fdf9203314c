//! Which series the screen needs, and when to ask again. Rows ask per view
//! kind and namespace, for the visible rows only (one batched query per
//! metric, as the source does); the chart asks for the selected object.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use tokio::time::Instant;

use crate::cluster::Cache;
use crate::input::action::View;
use crate::state::AppState;
use crate::views::{RowKey, Scope};
use kubedeck_core::metrics::source::step_for;
use kubedeck_core::metrics::{Metric, ObjectKind, ViewRequest};

/// Columns of an inline sparkline: one point per column.
pub(crate) const SPARK_WIDTH: u16 = 10;

/// The view id of a namespace's rows of one kind.
pub(crate) fn rows_view(kind: ObjectKind, namespace: &str) -> String {
    format!("rows/{}/{namespace}", kind.label())
}

/// The view id of the chart of the selection.
pub(crate) const DETAIL_VIEW: &str = "detail";
/// The selected HPA's own measured utilization (Prometheus only), beside
/// its workload's series in `DETAIL_VIEW`.
pub(crate) const HPA_VIEW: &str = "detail-hpa";

/// What a row of `view` is, for metrics: its kind and name.
pub(crate) fn row_object(view: View, scope: &Scope, key: &RowKey) -> Option<(ObjectKind, String)> {
    match view {
        View::Pods if !matches!(scope, Scope::Pod { .. }) => Some((ObjectKind::Pod, key.1.clone())),
        View::Hpas => Some((ObjectKind::Hpa, key.1.clone())),
        View::Workloads => match key.1.split_once('/')? {
            ("Deployment", name) => Some((ObjectKind::Deployment, name.to_string())),
            ("StatefulSet", name) => Some((ObjectKind::StatefulSet, name.to_string())),
            _ => None,
        },
        _ => None,
    }
}

/// The series a row of `kind` shows inline.
pub(crate) fn row_metrics(kind: ObjectKind) -> &'static [Metric] {
    match kind {
        ObjectKind::Deployment | ObjectKind::StatefulSet => {
            &[Metric::Cpu, Metric::Memory, Metric::RequestRate]
        }
        ObjectKind::Pod => &[Metric::Cpu, Metric::Memory, Metric::Restarts],
        ObjectKind::Hpa => &[Metric::HpaCurrent],
    }
}

/// The workload an HPA scales: its chart is that workload's CPU against
/// the HPA's target.
pub(crate) fn hpa_target(cache: &Cache, key: &RowKey) -> Option<(ObjectKind, String)> {
    let h = cache
        .hpas
        .state()
        .into_iter()
        .find(|h| crate::views::key_of(&h.metadata) == *key)?;
    let target = &h.spec.as_ref()?.scale_target_ref;
    let kind = match target.kind.as_str() {
        "Deployment" => ObjectKind::Deployment,
        "StatefulSet" => ObjectKind::StatefulSet,
        _ => return None,
    };
    Some((kind, target.name.clone()))
}

/// The chart's plot width in columns on a terminal `width` wide; the
/// widget lays it out the same way.
pub(crate) fn plot_width(width: u16) -> u16 {
    (width.saturating_sub(2) * 3 / 5).saturating_sub(8).max(10)
}

/// The requests the screen needs now, on a terminal `width` columns wide.
pub(crate) fn wanted(state: &AppState, cache: &Cache, width: u16) -> Vec<ViewRequest> {
    let screen = state.screen();
    if screen.covered() {
        return Vec::new();
    }
    let window = state.charts.window;
    let end = (screen.offset + state.page).min(screen.rows.len());
    let mut groups: BTreeMap<(ObjectKind, String), Vec<String>> = BTreeMap::new();
    for key in &screen.rows[screen.offset.min(end)..end] {
        if let Some((kind, name)) = row_object(screen.view, &screen.query.scope, key) {
            groups.entry((kind, key.0.clone())).or_default().push(name);
        }
    }
    let mut out: Vec<ViewRequest> = groups
        .into_iter()
        .map(|((kind, namespace), names)| ViewRequest {
            view: rows_view(kind, &namespace),
            kind,
            namespace,
            names,
            metrics: row_metrics(kind).to_vec(),
            window,
            width: SPARK_WIDTH,
        })
        .collect();
    if state.charts.shown
        && let Some(key) = screen.selected_key()
        && let Some((kind, name)) = row_object(screen.view, &screen.query.scope, key)
    {
        if kind == ObjectKind::Hpa {
            out.push(ViewRequest {
                view: HPA_VIEW.into(),
                kind,
                namespace: key.0.clone(),
                names: vec![name.clone()],
                metrics: vec![Metric::HpaUtilization],
                window,
                width: plot_width(width),
            });
        }
        let (kind, name, metrics) = match kind {
            ObjectKind::Hpa => match hpa_target(cache, key) {
                Some((k, n)) => (k, n, vec![Metric::Cpu, Metric::Replicas]),
                None => (kind, name, Vec::new()),
            },
            _ => (kind, name, Vec::new()),
        };
        out.push(ViewRequest {
            view: DETAIL_VIEW.into(),
            kind,
            namespace: key.0.clone(),
            names: vec![name],
            metrics,
            window,
            width: plot_width(width),
        });
    }
    out
}

/// Remembers what was asked and when, so that a request goes out only when
/// the question changed or its answer is a step old.
#[derive(Debug, Default)]
pub(crate) struct Requester {
    sent: HashMap<String, (ViewRequest, Instant)>,
    /// Ask again at least this often, whatever the step: metrics-server's
    /// ring buffers gain a sample every period, and asking them is free.
    pub cap: Option<Duration>,
}

impl Requester {
    pub(crate) fn with_cap(cap: Option<Duration>) -> Requester {
        Requester {
            sent: HashMap::new(),
            cap,
        }
    }

    /// Forgets what was asked, so that everything visible is asked again.
    pub(crate) fn reset(&mut self) {
        self.sent.clear();
    }

    /// Of `wanted`, the requests to send at `now`, and when to look again.
    pub(crate) fn due(
        &mut self,
        wanted: Vec<ViewRequest>,
        now: Instant,
    ) -> (Vec<ViewRequest>, Option<Instant>) {
        let ids: Vec<String> = wanted.iter().map(|r| r.view.clone()).collect();
        self.sent.retain(|id, _| ids.contains(id));
        let mut send = Vec::new();
        let mut next: Option<Instant> = None;
        for req in wanted {
            let step = step_for(req.window.duration(), req.width).max(Duration::from_secs(1));
            let step = self
                .cap
                .map_or(step, |c| step.min(c.max(Duration::from_secs(1))));
            let fresh = self
                .sent
                .get(&req.view)
                .is_some_and(|(r, at)| *r == req && now < *at + step);
            let at = if fresh {
                self.sent.get(&req.view).map_or(now, |(_, at)| *at)
            } else {
                self.sent.insert(req.view.clone(), (req.clone(), now));
                send.push(req);
                now
            };
            next = Some(next.map_or(at + step, |n| n.min(at + step)));
        }
        (send, next)
    }
}
