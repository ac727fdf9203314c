//! Metrics in the console (issue 7): sparkline columns in the workload,
//! HPA and pod rows, a chart of the selected object, and the source's
//! status in the header. The data comes from `kubedeck_core::metrics`:
//! `update` works out which series the screen needs (`request`) and hands
//! them to the runtime as an effect; the runtime owns the `MetricsSource`
//! (`runtime`), asks it, and its answers come back as `Msg::Charts`, which
//! `update` keeps in the state's `ChartData` for the view model (`chart`).

pub(crate) mod chart;
pub(crate) mod request;
pub mod runtime;
pub(crate) mod spark;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::cluster::Cache;
use super::input::action::View;
use super::state::AppState;
use super::theme::Role;
use super::update::{Effect, Updated};
use super::views::Scope;
use kubedeck_core::metrics::{Health, MetricsMsg, SourceStatus, ViewRequest, ViewSeries, Window};

/// What the user chose about charts; part of the console's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ChartUi {
    pub window: Window,
    /// Whether the chart of the selected object shows under the table.
    pub shown: bool,
}

/// A metrics source's answer or news, with its status when it arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartMsg {
    pub(crate) msg: MetricsMsg,
    pub(crate) status: SourceStatus,
    /// Why the configured Prometheus is not used (metrics-server is).
    pub(crate) problem: Option<String>,
}

/// Everything known about metrics: per view, the newest series or the
/// newest failure, and the source's status.
#[derive(Debug, Clone, Default)]
pub(crate) struct ChartData {
    pub views: HashMap<String, Arc<ViewSeries>>,
    pub errors: HashMap<String, String>,
    /// The status and when it was taken, to count a retry down.
    pub status: Option<(SourceStatus, DateTime<Utc>)>,
    /// What the screen last asked the source for.
    asked: Vec<ViewRequest>,
}

impl ChartData {
    /// Takes a source's message at `now`.
    fn apply(&mut self, msg: &ChartMsg, now: DateTime<Utc>) {
        self.status = Some((msg.status.clone(), now));
        match &msg.msg {
            MetricsMsg::Data { ticket, series } => {
                self.errors.remove(&*ticket.view);
                self.views.insert(ticket.view.to_string(), series.clone());
            }
            MetricsMsg::Failed { ticket, error } => {
                self.errors.insert(ticket.view.to_string(), error.clone());
            }
            MetricsMsg::Health(_) => {}
        }
    }

    pub(crate) fn view(&self, id: &str) -> Option<&ViewSeries> {
        self.views.get(id).map(Arc::as_ref)
    }

    /// The header's text: which source, its health, and a retry counted
    /// down from when the status was taken.
    pub(crate) fn status_line(&self, now: DateTime<Utc>) -> Option<(String, Role)> {
        let (status, at) = self.status.as_ref()?;
        let mut s = status.clone();
        let elapsed = (now - *at).to_std().unwrap_or_default();
        s.retry_in = s.retry_in.map(|r| r.saturating_sub(elapsed));
        let retrying = s.retry_in.is_some_and(|r| r.is_zero());
        if retrying {
            s.retry_in = None;
        }
        let role = match s.health {
            Health::Ok => Role::Muted,
            Health::Slow => Role::Warning,
            Health::Down => Role::Danger,
            Health::Unavailable => Role::Warning,
        };
        let mut text = format!("metrics: {}", s.describe());
        if retrying {
            text.push_str(", retrying");
        }
        Some((text, role))
    }

    /// When the header's retry countdown next reads differently.
    pub(crate) fn refresh_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let (status, at) = self.status.as_ref()?;
        let left = status.retry_in?;
        let ends = *at + chrono::Duration::from_std(left).ok()?;
        (ends > now).then(|| {
            // The countdown shows whole seconds rounded up: it changes when
            // the time left crosses a whole second.
            let ms = (ends - now).num_milliseconds() % 1000;
            now + chrono::Duration::milliseconds(if ms == 0 { 1000 } else { ms })
        })
    }
}

/// `update`'s handling of `Msg::Charts`: keep it; always redraw, since
/// the header shows the status and answers only come for what is visible.
pub(crate) fn on_msg(state: &mut AppState, msg: ChartMsg, now: DateTime<Utc>) -> Updated {
    state.chart_data.apply(&msg, now);
    if let Some(problem) = msg.problem {
        state.message = Some((problem, Role::Warning));
    }
    Updated::redraw()
}

/// The series the screen needs, when they differ from those last asked
/// for: the runtime asks the source for what is not fresh, and again as
/// answers age.
pub(crate) fn sync(state: &mut AppState, cache: &Cache) -> Option<Effect> {
    // Until the source has said which it is (its first message), there is
    // nothing to ask; the sparkline columns show from then on too.
    state.chart_data.status.as_ref()?;
    let wanted = request::wanted(state, cache, state.width);
    if wanted == state.chart_data.asked {
        return None;
    }
    state.chart_data.asked = wanted.clone();
    Some(Effect::RequestCharts(wanted))
}

/// `w`: the next chart window.
pub(crate) fn next_window(state: &mut AppState) -> Updated {
    state.charts.window = state.charts.window.next();
    state.message = Some((
        format!("metrics window: {}", state.charts.window.label()),
        Role::Info,
    ));
    Updated::redraw()
}

/// `m`: show or hide the chart of the selection.
pub(crate) fn toggle_chart(state: &mut AppState) -> Updated {
    state.charts.shown = !state.charts.shown;
    let screen = state.screen();
    let chartable = matches!(screen.view, View::Workloads | View::Hpas | View::Pods)
        && !matches!(screen.query.scope, Scope::Pod { .. });
    state.message = (state.charts.shown && !chartable).then(|| {
        (
            "charts show for workloads, HPAs and pods".to_string(),
            Role::Muted,
        )
    });
    Updated::redraw()
}
