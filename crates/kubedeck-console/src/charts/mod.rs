//! Metrics in the console (issue 7): sparkline columns in the workload,
//! HPA and pod rows, a chart of the selected object, and the source's
//! status in the header. The data comes from `kubedeck_core::metrics`: the runtime
//! owns a `MetricsSource` and asks it for the visible rows (`request`); the
//! answers reach `update` as `Msg::Charts` and are kept in the cache's
//! `ChartSlot`, where the view model reads them (`chart`).

pub mod chart;
pub mod request;
pub mod runtime;
pub mod spark;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

use super::theme::Role;
use kubedeck_core::metrics::{Health, MetricsMsg, SourceStatus, ViewSeries, Window};

/// What the user chose about charts; part of the console's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChartUi {
    pub window: Window,
    /// Whether the chart of the selected object shows under the table.
    pub shown: bool,
}

/// A metrics source's answer or news, with its status when it arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartMsg {
    pub msg: MetricsMsg,
    pub status: SourceStatus,
    /// Why the configured Prometheus is not used (metrics-server is).
    pub problem: Option<String>,
}

/// Everything known about metrics: per view, the newest series or the
/// newest failure, and the source's status.
#[derive(Debug, Clone, Default)]
pub struct ChartData {
    pub views: HashMap<String, Arc<ViewSeries>>,
    pub errors: HashMap<String, String>,
    /// The status and when it was taken, to count a retry down.
    pub status: Option<(SourceStatus, DateTime<Utc>)>,
}

impl ChartData {
    pub fn view(&self, id: &str) -> Option<&ViewSeries> {
        self.views.get(id).map(Arc::as_ref)
    }

    /// The header's text: which source, its health, and a retry counted
    /// down from when the status was taken.
    pub fn status_line(&self, now: DateTime<Utc>) -> Option<(String, Role)> {
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
    pub fn refresh_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
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

/// The cache's slot for metrics. Only the UI loop writes it (`update` on
/// `Msg::Charts`); the view model reads it.
#[derive(Clone, Default)]
pub struct ChartSlot(Arc<RwLock<ChartData>>);

impl ChartSlot {
    pub fn get(&self) -> std::sync::RwLockReadGuard<'_, ChartData> {
        // A poisoned lock still holds whole maps: writers only insert.
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, ChartData> {
        self.0.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a source's message at `now`.
    pub fn apply(&self, msg: &ChartMsg, now: DateTime<Utc>) {
        let mut d = self.write();
        d.status = Some((msg.status.clone(), now));
        match &msg.msg {
            MetricsMsg::Data { ticket, series } => {
                d.errors.remove(&*ticket.view);
                d.views.insert(ticket.view.to_string(), series.clone());
            }
            MetricsMsg::Failed { ticket, error } => {
                d.errors.insert(ticket.view.to_string(), error.clone());
            }
            MetricsMsg::Health(_) => {}
        }
    }
}

/// `update`'s handling of `Msg::Charts`: store it; always redraw, since
/// the header shows the status and answers only come for what is visible.
pub fn on_msg(
    state: &mut super::state::AppState,
    msg: ChartMsg,
    cache: &super::cluster::Cache,
    now: DateTime<Utc>,
) -> super::update::Updated {
    cache.charts.apply(&msg, now);
    if let Some(problem) = msg.problem {
        state.message = Some((problem, Role::Warning));
    }
    super::update::Updated::redraw()
}

/// `w`: the next chart window.
pub fn next_window(state: &mut super::state::AppState) -> super::update::Updated {
    state.charts.window = state.charts.window.next();
    state.message = Some((
        format!("metrics window: {}", state.charts.window.label()),
        Role::Info,
    ));
    super::update::Updated::redraw()
}

/// `m`: show or hide the chart of the selection.
pub fn toggle_chart(state: &mut super::state::AppState) -> super::update::Updated {
    state.charts.shown = !state.charts.shown;
    let screen = state.screen();
    let chartable = matches!(
        screen.view,
        super::input::action::View::Workloads
            | super::input::action::View::Hpas
            | super::input::action::View::Pods
    ) && !matches!(screen.query.scope, super::views::Scope::Pod { .. });
    state.message = (state.charts.shown && !chartable).then(|| {
        (
            "charts show for workloads, HPAs and pods".to_string(),
            Role::Muted,
        )
    });
    super::update::Updated::redraw()
}
