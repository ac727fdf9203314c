//! View models: everything a frame shows, already formatted, for the
//! visible rows only. Built from the state, the cache and a clock passed
//! in, so a frame is reproducible in tests.

use chrono::{DateTime, Duration, Utc};

use super::cluster::{Cache, Kind};
use super::input::action::Action;
use super::input::keymap::{Keymap, Mode};
use super::state::{AppState, Body, Health, Overlay, Panel, Prompt};
use super::theme::Role;
use super::update::log_pane_height;
use super::views::{Cell, Column, Scope, table_of};

#[derive(Debug, Clone, PartialEq)]
pub struct ScreenVm {
    pub(crate) context: String,
    pub(crate) namespace: String,
    pub(crate) readonly: bool,
    /// Watch trouble to show in the header, e.g. "stale since 14:02:11".
    pub(crate) health: Option<(String, Role)>,
    /// "API server not responding since 08:33:45, retrying", while it does not.
    pub(crate) banner: Option<String>,
    pub(crate) breadcrumb: Vec<String>,
    pub table: TableVm,
    /// The bottom line: a prompt being typed, or the latest message, or key hints.
    pub(crate) status: (String, Role),
    pub(crate) help: Option<super::help::HelpVm>,
    /// The command line's candidates, over the screen's bottom.
    pub(crate) completion: Option<CompletionVm>,
    pub(crate) warnings: Vec<String>,
    /// Notes on the selected row under the table (the HPA's "why").
    pub(crate) detail: Option<Vec<Cell>>,
    /// The detail pane's title.
    pub(crate) detail_title: &'static str,
    /// Describe or YAML, shown instead of the table.
    pub(crate) text: Option<TextVm>,
    /// kubedeck's own log under the table.
    pub(crate) log: Option<LogVm>,
    /// Rollout progress or revision history, shown instead of the table.
    pub(crate) panel: Option<PanelVm>,
    /// An action's form or confirm dialog, over everything.
    pub(crate) dialog: Option<DialogVm>,
    /// The log view, shown instead of the table.
    pub(crate) logview: Option<super::logview::view_model::LogViewVm>,
    /// Which metrics source is used and its health, for the header.
    pub metrics: Option<(String, Role)>,
    /// The chart of the selected object, under the table.
    pub chart: Option<super::charts::chart::ChartVm>,
    /// When a relative time on screen ("5m", "(30s ago)") will read
    /// differently; the runtime redraws then. None when nothing shown
    /// depends on the clock.
    pub(crate) refresh_at: Option<DateTime<Utc>>,
}

/// A bordered pane of styled lines; everything is formatted here so the
/// widgets only draw.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PanelVm {
    pub title: String,
    pub lines: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DialogVm {
    pub title: String,
    pub lines: Vec<Vec<Cell>>,
    /// Drawn in the danger colour: RBAC says no, or the action is risky.
    pub danger: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LogVm {
    pub title: String,
    /// Rows, borders included.
    pub height: u16,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TextVm {
    pub title: String,
    /// The visible lines only.
    pub lines: Vec<String>,
    /// "lines 1-40 of 120".
    pub position: String,
}

/// The most lines a detail pane takes, borders included.
pub(crate) const DETAIL_MAX: usize = 9;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionVm {
    pub(crate) items: Vec<String>,
    pub(crate) selected: Option<usize>,
    pub(crate) loading: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableVm {
    pub(crate) title: String,
    /// Every column the rows have cells for; the widget lays them out in
    /// the width it has (widgets/layout.rs).
    pub(crate) columns: Vec<Column>,
    pub(crate) sort_column: usize,
    pub(crate) descending: bool,
    pub rows: Vec<Vec<Cell>>,
    /// The selected row's index within `rows`.
    pub(crate) selected: Option<usize>,
    /// The column that takes spare width first.
    pub(crate) flex: usize,
    /// In wide mode, the first column shown: every column at full width,
    /// scrolled sideways.
    pub(crate) wide: Option<usize>,
    /// The key that toggles wide mode, for the title's note of hidden columns.
    pub(crate) wide_key: Option<String>,
    /// A line above the table (the overview's cluster health).
    pub(crate) summary: Option<Vec<Cell>>,
    /// The order when it is no column's; the header then marks none.
    pub(crate) order_note: Option<&'static str>,
}

impl TableVm {
    /// The index of the column headed `name` in every row's cells.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

pub fn build(state: &AppState, cache: &Cache, keymap: &Keymap, now: DateTime<Utc>) -> ScreenVm {
    let screen = state.screen();
    let src = state.sources(cache);
    let table = table_of(screen);
    let detail = match (table, screen.selected_key()) {
        (Some(t), Some(k)) if !screen.covered() => t.detail(cache, k, now),
        _ => None,
    };
    // A detail pane takes its lines from the table's; the window still
    // holds the cursor.
    let detail_height = detail.as_ref().map_or(0, |d| (d.len() + 2).min(DETAIL_MAX));
    let chart = super::charts::chart::build(state, cache);
    let chart_height = chart
        .as_ref()
        .map_or(0, |_| super::charts::chart::CHART_HEIGHT as usize);
    // So does a summary line above the table.
    let summary = table
        .filter(|_| !screen.covered())
        .and_then(|t| t.summary(src, &screen.query, now));
    let summary_height = usize::from(summary.is_some());
    let page = state
        .page
        .saturating_sub(detail_height + chart_height + summary_height)
        .max(1);
    let offset = if screen.selected >= screen.offset + page {
        screen.selected + 1 - page
    } else {
        screen.offset
    };
    let mut refresh_at = None;
    let table = match table {
        Some(t) => {
            let end = (offset + page).min(screen.rows.len());
            let window = offset.min(end)..end;
            let keys = &screen.rows[window.clone()];
            let rows: Vec<Vec<Cell>> = t
                .window_cells(src, &screen.rows, window.clone(), now)
                .into_iter()
                .zip(keys)
                .filter_map(|(cells, k)| {
                    let mut cells = cells?;
                    cells.extend(super::charts::chart::row_cells(state, k));
                    Some(cells)
                })
                .collect();
            if !screen.covered() && state.logs.is_none() && !keys.is_empty() {
                let selected = screen.selected_key();
                refresh_at = Some(next_change(now, |at| {
                    let rows = t.window_cells(src, &screen.rows, window.clone(), at);
                    (rows, selected.and_then(|k| t.detail(cache, k, at)))
                }));
            }
            // A tree given `-n` is drawn from that namespace, whatever `:ns` says.
            let scope = match &screen.query.scope {
                Scope::Xray(target) => target.namespace(state.namespace.as_deref()),
                _ => state.namespace.as_deref(),
            }
            .unwrap_or("all");
            // While a first list streams in, the count is of what came so far.
            let loading = t.depends_on().iter().any(|k| cache.loading(*k));
            let more = if loading { " loading" } else { "" };
            let name = t.title_in(src, &screen.query);
            let mut title = format!("{name}({scope})[{}{more}]", screen.rows.len());
            if !screen.filter_text.is_empty() {
                title.push_str(&format!(" </{}>", screen.filter_text));
            }
            if screen.query.faults_only {
                title.push_str(" <faults only>");
            }
            if let Some(note) = t.order_note(src, &screen.query) {
                title.push(' ');
                title.push_str(note);
            }
            if let Some(note) = super::charts::chart::title_note(state) {
                title.push_str(&note);
            }
            let mut columns = t.columns_in(src, &screen.query).into_owned();
            columns.extend(super::charts::chart::columns(state));
            TableVm {
                title,
                columns,
                sort_column: screen.query.sort_column,
                descending: screen.query.descending,
                selected: (!rows.is_empty()).then(|| screen.selected.saturating_sub(offset)),
                rows,
                flex: t.flex_in(src, &screen.query),
                wide: state.wide,
                wide_key: key_for(keymap, Action::ToggleWide),
                summary: summary.map(|mut cells| {
                    cells.splice(0..0, api_health(state, t.depends_on()));
                    cells
                }),
                order_note: t.order_note(src, &screen.query),
            }
        }
        None => TableVm {
            title: String::new(),
            columns: Vec::new(),
            sort_column: 0,
            descending: false,
            rows: Vec::new(),
            selected: None,
            flex: 0,
            wide: None,
            wide_key: None,
            summary: None,
            order_note: None,
        },
    };
    let mut text = None;
    let mut panel = None;
    match &screen.body {
        Body::Table => {}
        Body::Text(pane) => {
            let shown = state.page + 1;
            let end = (pane.scroll + shown).min(pane.lines.len());
            let start = pane.scroll.min(end);
            text = Some(TextVm {
                title: pane.title.clone(),
                lines: pane.lines[start..end].to_vec(),
                position: format!("lines {}-{end} of {}", start + 1, pane.lines.len()),
            });
        }
        Body::Panel(p) => {
            if let Panel::History { .. } = p {
                // A history lists ages.
                refresh_at = Some(next_change(now, |at| {
                    super::panels::panel(p, cache, keymap, at)
                }));
            }
            panel = Some(super::panels::panel(p, cache, keymap, now));
        }
        Body::BackupRun(run) => {
            refresh_at = super::oncall::backup_view::refresh_at(run, cache, now);
            panel = Some(super::oncall::backup_view::panel(
                run, cache, now, state.page,
            ));
        }
        Body::Ops(pane) => panel = Some(super::oncall::pane_vm(state, pane, keymap)),
    }
    let (health, banner) = health_lines(state, table_of(screen).map(|t| t.depends_on()));
    let logs_status = super::logview::view_model::status(state, keymap);
    let metrics = state.chart_data.status_line(now);
    if let Some(at) = state.chart_data.refresh_at(now) {
        refresh_at = Some(refresh_at.map_or(at, |r: DateTime<Utc>| r.min(at)));
    }
    let status = match &state.overlay {
        Some(Overlay::Prompt(Prompt::Command(t))) => (format!(":{t}"), Role::Accent),
        Some(Overlay::Prompt(Prompt::Filter(t))) => (format!("/{t}"), Role::Accent),
        Some(Overlay::Help) | None => state
            .message
            .clone()
            .unwrap_or_else(|| (hints(keymap), Role::Muted)),
    };
    let status = logs_status.unwrap_or(status);
    let mut breadcrumb: Vec<String> = state.stack.iter().map(|s| s.crumb.clone()).collect();
    if let Some(lv) = &state.logs {
        breadcrumb.push(format!("logs {}", lv.title));
    }
    ScreenVm {
        context: state.context.clone(),
        namespace: state.namespace.clone().unwrap_or_else(|| "all".into()),
        readonly: state.readonly,
        health,
        banner,
        breadcrumb,
        table,
        status,
        completion: match (&state.overlay, &state.completion) {
            (Some(Overlay::Prompt(Prompt::Command(_))), Some(c)) => Some(CompletionVm {
                // A line's last word is what differs between candidates.
                items: c
                    .candidates
                    .iter()
                    .map(|l| l.rsplit(' ').next().unwrap_or(l).to_string())
                    .collect(),
                selected: c.selected,
                loading: c.loading,
            }),
            _ => None,
        },
        help: (state.overlay == Some(Overlay::Help)).then(|| super::help::HelpVm {
            lines: help_lines(state, keymap),
            scroll: state.help_scroll,
        }),
        warnings: state.warnings.clone(),
        detail,
        detail_title: table_of(screen).map_or("Why", |t| t.detail_title()),
        text,
        log: state.log_pane.then(|| LogVm {
            title: match key_for(keymap, Action::ToggleLogPane) {
                Some(k) => format!("kubedeck log  <{k}> hides"),
                None => "kubedeck log".into(),
            },
            height: log_pane_height(state.height),
        }),
        panel,
        dialog: state
            .dialog
            .as_ref()
            .map(|d| super::panels::dialog(d, keymap)),
        logview: state
            .logs
            .as_ref()
            .map(|lv| super::logview::view_model::build(lv, super::logview::rows(state))),
        metrics,
        chart,
        refresh_at,
    }
}

/// The help overlay's lines: the log view's keys while it is open, else
/// the normal keys and the `:` commands.
pub(crate) fn help_lines(state: &AppState, keymap: &Keymap) -> Vec<super::help::HelpLine> {
    if state.logs.is_some() {
        super::help::logs(super::logview::view_model::help(keymap))
    } else {
        super::help::lines(keymap)
    }
}

/// Offsets, in seconds, at which `next_change` looks for a change; past the
/// last one it gives up, so a screen of old objects wakes this rarely.
const PROBES: [i64; 8] = [1, 2, 5, 10, 30, 60, 120, 300];

/// The first whole second after `now` at which `render` (what the screen
/// shows at a given clock) differs from what it shows at `now`; at most the
/// last probe. Relative times only grow, so once the text differs it keeps
/// differing, which is what lets a probe bracket the change and a bisection
/// find it. Whatever is shown is asked, so every view's ages, "(30s ago)"
/// and countdowns are covered without knowing how each one is formatted.
pub(crate) fn next_change<T: PartialEq>(
    now: DateTime<Utc>,
    render: impl Fn(DateTime<Utc>) -> T,
) -> DateTime<Utc> {
    let at = |secs: i64| now + Duration::seconds(secs);
    let base = render(now);
    let mut same = 0;
    for probe in PROBES {
        if render(at(probe)) != base {
            let mut changed = probe;
            while changed - same > 1 {
                let mid = (same + changed) / 2;
                if render(at(mid)) != base {
                    changed = mid;
                } else {
                    same = mid;
                }
            }
            return at(changed);
        }
        same = probe;
    }
    at(same)
}

pub(crate) fn key_for(keymap: &Keymap, action: Action) -> Option<String> {
    keymap
        .first_key(Mode::Normal, &action)
        .map(|k| k.to_string())
}

/// The header's stale mark for the kinds `shown` (every kind when the
/// screen has no table), and the banner while the API server does not
/// answer, both in local time.
/// Whether the API server answers the view's watches, for the overview's
/// line: unreachable, a watch failing, still listing, or every one live.
fn api_health(state: &AppState, kinds: &[Kind]) -> [Cell; 2] {
    let healths = kinds.iter().filter_map(|k| state.health.get(k));
    let (mut unreachable, mut failing, mut syncing) = (false, false, false);
    for h in healths {
        match h {
            Health::Unreachable(_) => unreachable = true,
            Health::Stale(_) => failing = true,
            Health::Syncing => syncing = true,
            Health::Live => {}
        }
    }
    let api = if unreachable {
        Cell::new("API unreachable", Role::Danger)
    } else if failing {
        Cell::new("API: a watch failing", Role::Warning)
    } else if syncing {
        Cell::new("API: listing", Role::Muted)
    } else {
        match latency_text(state.api_latency) {
            Some(t) => Cell::new(format!("API ok {t}"), Role::Ok),
            None => Cell::new("API ok", Role::Ok),
        }
    };
    [api, Cell::new("  ·  ", Role::Muted)]
}

/// A watch request's round trip as the overview shows it: to 10 ms.
pub(crate) fn latency_text(d: Option<std::time::Duration>) -> Option<String> {
    let ms = d?.as_millis();
    Some(if ms < 10 {
        "<10 ms".to_string()
    } else {
        format!("{} ms", ms / 10 * 10)
    })
}

fn health_lines(
    state: &AppState,
    shown: Option<&[Kind]>,
) -> (Option<(String, Role)>, Option<String>) {
    let local = |t: DateTime<Utc>| {
        t.with_timezone(&chrono::Local)
            .format("%H:%M:%S")
            .to_string()
    };
    let mut stale: Vec<(Kind, DateTime<Utc>)> = state
        .health
        .iter()
        .filter(|(k, _)| shown.is_none_or(|s| s.contains(k)))
        .filter_map(|(k, h)| Some((*k, h.stale_since()?)))
        .collect();
    stale.sort();
    let health = stale.iter().map(|(_, t)| *t).min().map(|since| {
        let kinds: Vec<String> = stale.iter().map(|(k, _)| state.kind_name(*k)).collect();
        (
            format!("{} stale since {}", kinds.join(","), local(since)),
            Role::Danger,
        )
    });
    let banner = state
        .health
        .values()
        .filter_map(|h| match h {
            Health::Unreachable(t) => Some(*t),
            _ => None,
        })
        .min()
        .map(|since| format!("API server not responding since {}, retrying", local(since)));
    (health, banner)
}

/// The key hint line, from the active keymap so it never lies.
fn hints(keymap: &Keymap) -> String {
    use super::input::action::Action;
    let mut parts = Vec::new();
    let bindings = keymap.bindings(Mode::Normal);
    for (action, label) in [
        (Action::Command, "command"),
        (Action::Filter, "filter"),
        (Action::Help, "help"),
        (Action::Quit, "quit"),
    ] {
        if let Some((_, keys)) = bindings.iter().find(|(a, _)| *a == action)
            && let Some(k) = keys.first()
        {
            parts.push(format!("<{k}> {label}"));
        }
    }
    parts.join("  ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::watch::WatchMsg;
    use crate::input::action::View;
    use crate::state::Screen;
    use crate::test_support::{cluster, now, resize};
    use crate::update::{Msg, update};
    use crate::views::Query;
    use kubedeck_kube::age::human_duration;

    /// When the age of something created `age` before `now()` next reads
    /// differently, in seconds from `now()`.
    fn next_for(age: Duration) -> i64 {
        let created = now() - age;
        let at = next_change(now(), |t| human_duration(t - created));
        (at - now()).num_seconds()
    }

    #[test]
    fn young_ages_change_within_the_second_older_ones_at_their_boundary() {
        let secs = Duration::seconds;
        assert_eq!(next_for(secs(45)), 1, "45s");
        assert_eq!(next_for(secs(9 * 60 + 59)), 1, "9m59s");
        assert_eq!(next_for(secs(10 * 60 + 20)), 40, "10m, until 11m");
        assert_eq!(next_for(secs(3 * 3600 + 20 * 60 + 30)), 30, "3h20m");
        assert_eq!(
            next_for(secs(3 * 3600 + 20 * 60) + Duration::milliseconds(400)),
            60,
            "a fraction of a second rounds the wake-up up to the change"
        );
        assert_eq!(next_for(secs(20 * 3600)), 300, "20h: wake in 5 minutes");
    }

    #[test]
    fn the_deadline_follows_what_is_visible() {
        let cache = cluster();
        let keymap = Keymap::built_in_default();
        let mut state = AppState::new("test", None, false);
        state.stack = vec![Screen::new(View::Pods, Query::default(), "pods")];
        update(&mut state, resize(30), &cache, &keymap, now());
        update(
            &mut state,
            Msg::Watch(WatchMsg::Synced(crate::cluster::Kind::Pod)),
            &cache,
            &keymap,
            now(),
        );
        let at = |state: &AppState| build(state, &cache, &keymap, now()).refresh_at;
        assert_eq!(
            at(&state),
            Some(now() + Duration::seconds(1)),
            "a 45s-old pod"
        );
        // Only the three-day-old pod: "3d" turns "3d1h" in an hour, past
        // the horizon.
        update(
            &mut state,
            resize(CHROME_ROWS_FOR_ONE),
            &cache,
            &keymap,
            now(),
        );
        assert_eq!(at(&state), Some(now() + Duration::seconds(300)));
        update(&mut state, resize(30), &cache, &keymap, now());
        update(
            &mut state,
            Msg::Key("y".parse().expect("key")),
            &cache,
            &keymap,
            now(),
        );
        assert_eq!(at(&state), None, "a YAML pane is a snapshot");
    }

    /// A terminal height that leaves one table row: the first, ledger-0.
    const CHROME_ROWS_FOR_ONE: u16 = crate::update::CHROME_ROWS + 1;
}
