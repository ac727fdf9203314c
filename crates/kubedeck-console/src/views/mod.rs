//! Table views: which rows a view shows (filtered and sorted over the whole
//! cache) and how one row reads. Rows are only formatted for the visible
//! window; the full pass over the cache only orders keys.

pub(crate) mod api_resources;
pub(crate) mod backups;
pub(crate) mod containers;
pub(crate) mod describe;
pub(crate) mod events;
pub(crate) mod generic;
#[cfg(test)]
mod generic_tests;
pub(crate) mod hpas;
pub(crate) mod jobs;
pub(crate) mod namespaces;
pub(crate) mod nodes;
pub(crate) mod overview;
pub(crate) mod pods;
pub(crate) mod services;
pub(crate) mod workloads;
pub(crate) mod xray;

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::cluster::{SlimEvent, SlimPod};
use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::cluster::metrics::PodMetrics;
use super::cluster::{Cache, Kind};
use super::filter::Filter;
use super::input::action::View;
use super::state::Screen;
use super::theme::Role;

/// A row's identity: (namespace, name); namespace "" for cluster-scoped kinds.
pub(crate) type RowKey = (String, String);

/// What of a cell must survive when its column is narrowed; the layout
/// (widgets/layout.rs) abbreviates around it, or drops the column instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    /// All of it: a status word, a namespace, a count, an age.
    Whole,
    /// The last `-` or `.` part, abbreviating the middle: a pod's suffix,
    /// a node's number (`prod-w…-3`).
    End,
    /// An image's name and tag, abbreviating the registry path
    /// (`selfmonitor/…/web-app:v3.8.0`).
    Image,
    /// The first word, cutting the end: a status with its cause.
    Head,
    /// Free text, cut at the end down to the column's `min_width`.
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Column {
    pub name: &'static str,
    /// For `Keep::Text`, the least width worth showing; other columns'
    /// least width follows from their visible cells.
    pub min_width: u16,
    pub numeric: bool,
    pub keep: Keep,
    /// 0 is the key column, never dropped; a narrow terminal drops the
    /// highest numbers first, before it abbreviates a lower one.
    pub priority: u8,
}

impl Column {
    pub(crate) const fn keep(self, keep: Keep) -> Column {
        Column { keep, ..self }
    }

    pub(crate) const fn priority(self, priority: u8) -> Column {
        Column { priority, ..self }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub role: Role,
}

impl Cell {
    pub(crate) fn new(text: impl Into<String>, role: Role) -> Cell {
        Cell {
            text: text.into(),
            role,
        }
    }

    pub(crate) fn text(text: impl Into<String>) -> Cell {
        Cell::new(text, Role::Text)
    }
}

/// A value to sort a column by: numbers as numbers, text as text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum SortKey {
    Num(i64),
    Text(String),
}

/// What narrows a view beyond the filter: a drill-down from a parent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Scope {
    #[default]
    Everything,
    /// One namespace's objects.
    Namespace(String),
    /// Objects selected by a workload or service: its namespace and selector
    /// labels. Pods match on their labels, workloads on their pod template's.
    Selector {
        namespace: String,
        labels: BTreeMap<String, String>,
    },
    /// The pods scheduled on one node.
    Node(String),
    /// One pod's containers.
    Pod { namespace: String, name: String },
    /// A workload's owner tree (`:xray`).
    Xray(crate::xray::Target),
}

/// Where Enter on a row leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Drill {
    pub view: View,
    pub scope: Scope,
    pub crumb: String,
}

/// Everything that decides which rows a view lists, and in what order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query {
    /// Limit to one namespace; None lists all namespaces.
    pub namespace: Option<String>,
    pub scope: Scope,
    pub filter: Filter,
    pub sort_column: usize,
    pub descending: bool,
    /// The resource a generic view shows.
    pub resource: Option<std::sync::Arc<crate::cluster::discovery::ResourceInfo>>,
    /// Only the rows the view judges unhealthy (`TableView::fault`).
    pub faults_only: bool,
}

/// What a table lists and shows rows from: the watch stores, and what the
/// UI loop keeps beside them.
#[derive(Clone, Copy)]
pub(crate) struct Sources<'a> {
    pub(crate) cache: &'a Cache,
    /// The latest pod metrics sample, which no watch delivers.
    pub(crate) metrics: &'a PodMetrics,
    /// Name parts that make a CronJob a backup, from the config file.
    pub(crate) backup_patterns: &'a [String],
    /// How long a Warning event stays current; older ones have faded.
    pub(crate) warning_window: chrono::Duration,
    /// The server's resources, from discovery; empty until it answers.
    pub(crate) resources: &'a [crate::cluster::discovery::ResourceInfo],
    /// The config's favourite namespaces, listed first.
    pub(crate) favourites: &'a [String],
}

pub(crate) trait TableView: Sync {
    fn title(&self) -> &'static str;
    fn columns(&self) -> &'static [Column];
    /// The title for this query; a generic view names its resource.
    fn title_in(&self, _src: Sources<'_>, _query: &Query) -> Cow<'static, str> {
        Cow::Borrowed(self.title())
    }
    /// The columns for this query; a generic view's are the server's.
    fn columns_in(&self, _src: Sources<'_>, _query: &Query) -> Cow<'static, [Column]> {
        Cow::Borrowed(self.columns())
    }
    /// The kinds whose changes can change this view.
    fn depends_on(&self) -> &'static [Kind];
    /// The keys of the rows to list, in order.
    fn rows(&self, src: Sources<'_>, query: &Query, now: DateTime<Utc>) -> Vec<RowKey>;
    /// The cells of one row, or None if the object is gone.
    fn cells(&self, src: Sources<'_>, key: &RowKey, now: DateTime<Utc>) -> Option<Vec<Cell>>;
    /// The column that takes the width left over.
    fn flex_column(&self) -> usize {
        1
    }
    /// The flexible column for this query; a generic view's is its name column.
    fn flex_in(&self, _src: Sources<'_>, _query: &Query) -> usize {
        self.flex_column()
    }
    /// The cells of the rows in `window` of `rows`: each row's `cells`,
    /// unless a row reads its neighbours (a tree's branches).
    fn window_cells(
        &self,
        src: Sources<'_>,
        rows: &[RowKey],
        window: std::ops::Range<usize>,
        now: DateTime<Utc>,
    ) -> Vec<Option<Vec<Cell>>> {
        rows[window]
            .iter()
            .map(|k| self.cells(src, k, now))
            .collect()
    }
    /// The container a row names, for its logs.
    fn container(&self, _key: &RowKey) -> Option<String> {
        None
    }
    /// Where Enter on this row leads, if anywhere.
    fn enter(&self, _cache: &Cache, _key: &RowKey) -> Option<Drill> {
        None
    }
    /// The row's object as the API serves it, for describe and YAML.
    fn object(&self, _cache: &Cache, _key: &RowKey) -> Option<serde_json::Value> {
        None
    }
    /// Lines for a detail pane under the table when this row is selected.
    fn detail(&self, _cache: &Cache, _key: &RowKey, _now: DateTime<Utc>) -> Option<Vec<Cell>> {
        None
    }
    /// A line above the table: what the rows add up to.
    fn summary(&self, _src: Sources<'_>, _query: &Query, _now: DateTime<Utc>) -> Option<Vec<Cell>> {
        None
    }
    /// The order when it is no column's (the header then marks none).
    fn order_note(&self, _src: Sources<'_>, _query: &Query) -> Option<&'static str> {
        None
    }
    /// Whether the view can tell a healthy row from a fault.
    fn judges_faults(&self) -> bool {
        false
    }
    /// Whether the row is not healthy; None where the view cannot tell, or
    /// the object is gone.
    fn fault(&self, _src: Sources<'_>, _key: &RowKey, _now: DateTime<Utc>) -> Option<bool> {
        None
    }
    /// The detail pane's title.
    fn detail_title(&self) -> &'static str {
        "Why"
    }
}

/// A column kept whole, or for text cut at its end, at middle priority;
/// `keep` and `priority` say otherwise.
pub(crate) const fn col(name: &'static str, min_width: u16, numeric: bool) -> Column {
    Column {
        name,
        min_width,
        numeric,
        keep: if numeric { Keep::Whole } else { Keep::Text },
        priority: 5,
    }
}

/// Orders keyed rows by the sort column, then by namespace and name so the
/// order is stable as objects change.
pub(crate) fn sort_rows<K: Ord, R: Ord>(rows: &mut [(K, R)], descending: bool) {
    rows.sort_by(|(a, ka), (b, kb)| {
        let primary = a.cmp(b);
        let primary = if descending {
            primary.reverse()
        } else {
            primary
        };
        match primary {
            Ordering::Equal => ka.cmp(kb),
            other => other,
        }
    });
}

/// kubectl's age format for a timestamp.
pub(crate) fn age(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    t.map_or_else(
        || "<unknown>".to_string(),
        |t| kubedeck_kube::age::human_duration(now - t),
    )
}

/// A k8s-openapi timestamp (jiff) as the chrono time the console computes with.
pub(crate) fn time(
    t: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.0.as_second(), t.0.subsec_nanosecond().max(0) as u32)
}

pub(crate) fn age_secs(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> i64 {
    t.map_or(0, |t| (now - t).num_seconds())
}

/// The table behind a view.
pub(crate) fn table_for(view: View) -> Option<&'static dyn TableView> {
    Some(match view {
        View::Overview => &overview::OverviewView,
        View::Namespaces => &namespaces::NamespacesView,
        View::Services => &services::ServicesView,
        View::Workloads => &workloads::WorkloadsView,
        View::Hpas => &hpas::HpasView,
        View::Pods => &pods::PodsView,
        View::Events => &events::EventsView,
        View::Jobs => &jobs::JobsView,
        View::CronJobs => &jobs::CronJobsView,
        View::Nodes => &nodes::NodesView,
        View::Backups => &backups::BackupsView,
        View::Resource => &generic::GenericView,
        View::ApiResources => &api_resources::ApiResourcesView,
        View::Xray => &xray::XrayView,
    })
}

/// The table a screen shows: its view's, except a pod's containers, which
/// are a drill-down of the pods view.
pub(crate) fn table_of(screen: &Screen) -> Option<&'static dyn TableView> {
    match screen.query.scope {
        Scope::Pod { .. } => Some(&containers::ContainersView),
        _ => table_for(screen.view),
    }
}

/// Whether an object passes the query's namespace, scope and filter.
/// `labels` are what a selector scope matches: a pod's own labels, or a
/// workload's pod template labels.
pub(crate) fn visible(
    query: &Query,
    ns: &str,
    name: &str,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    if !ns.is_empty() && query.namespace.as_deref().is_some_and(|q| q != ns) {
        return false;
    }
    let in_scope = match &query.scope {
        Scope::Everything | Scope::Node(_) | Scope::Pod { .. } | Scope::Xray(_) => true,
        Scope::Namespace(n) => n == ns,
        Scope::Selector {
            namespace,
            labels: sel,
        } => namespace == ns && selects(sel, labels),
    };
    in_scope && query.filter.matches(ns, name, labels)
}

/// Whether an object passes the query, by its own namespace, name and labels.
pub(crate) fn visible_object(query: &Query, meta: &ObjectMeta) -> bool {
    visible(
        query,
        meta.namespace.as_deref().unwrap_or(""),
        meta.name.as_deref().unwrap_or(""),
        meta.labels.as_ref(),
    )
}

/// Whether equality-based selector labels select an object's labels. An
/// empty selector selects nothing, as a Service without a selector does.
pub(crate) fn selects(
    selector: &BTreeMap<String, String>,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    !selector.is_empty()
        && labels.is_some_and(|l| selector.iter().all(|(k, v)| l.get(k) == Some(v)))
}

/// Sorts keyed rows and keeps the keys.
pub(crate) fn finish(mut keyed: Vec<(SortKey, RowKey)>, descending: bool) -> Vec<RowKey> {
    sort_rows(&mut keyed, descending);
    keyed.into_iter().map(|(_, k)| k).collect()
}

pub(crate) fn created(meta: &ObjectMeta) -> Option<DateTime<Utc>> {
    meta.creation_timestamp.as_ref().and_then(time)
}

/// (namespace, name) of an object.
pub(crate) fn key_of(meta: &ObjectMeta) -> RowKey {
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

/// The cached object as JSON with `managedFields` stripped.
pub(crate) fn as_json<K: serde::Serialize>(obj: &K) -> Option<serde_json::Value> {
    let mut v = serde_json::to_value(obj).ok()?;
    if let Some(meta) = v.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        meta.remove("managedFields");
    }
    Some(v)
}

/// A pod counts as ready when all its containers are, or when it has
/// finished successfully (a completed job pod is not a problem).
pub(crate) fn pod_ok(pod: &SlimPod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if phase == Some("Succeeded") {
        return true;
    }
    let (ready, total) = pods::ready(pod);
    total > 0 && ready == total
}

/// The waiting reason of the first container stuck in a back-off.
pub(crate) fn backoff_reason(pod: &SlimPod) -> Option<&str> {
    pod.status
        .as_ref()?
        .container_statuses
        .iter()
        .flatten()
        .filter_map(|cs| cs.state.as_ref()?.waiting.as_ref()?.reason.as_deref())
        .find(|r| {
            matches!(
                *r,
                "CrashLoopBackOff"
                    | "ImagePullBackOff"
                    | "ErrImagePull"
                    | "CreateContainerConfigError"
            )
        })
}

/// When an event last happened, from whichever timestamp its reporter set.
pub(crate) fn event_time(e: &SlimEvent) -> Option<DateTime<Utc>> {
    e.last_timestamp
        .as_ref()
        .and_then(time)
        .or_else(|| {
            e.event_time.as_ref().and_then(|t| {
                DateTime::from_timestamp(t.0.as_second(), t.0.subsec_nanosecond().max(0) as u32)
            })
        })
        .or_else(|| e.first_timestamp.as_ref().and_then(time))
        .or_else(|| created(&e.metadata))
}

/// The events about one object, newest first.
pub(crate) fn events_for(
    cache: &Cache,
    kind: &str,
    ns: &str,
    name: &str,
) -> Vec<std::sync::Arc<SlimEvent>> {
    let mut out: Vec<_> = cache
        .events()
        .state()
        .into_iter()
        .filter(|e| {
            let o = &e.involved_object;
            o.kind.as_deref() == Some(kind)
                && o.name.as_deref() == Some(name)
                && o.namespace.as_deref().unwrap_or("") == ns
        })
        .collect();
    out.sort_by_key(|e| std::cmp::Reverse(event_time(e)));
    out
}

/// Cuts text to `max` characters, marking the cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
