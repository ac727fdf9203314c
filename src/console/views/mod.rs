//! Table views: which rows a view shows (filtered and sorted over the whole
//! cache) and how one row reads. Rows are only formatted for the visible
//! window; the full pass over the cache only orders keys.

pub mod pods;

use std::cmp::Ordering;

use chrono::{DateTime, Utc};

use super::cluster::{Cache, Kind};
use super::filter::Filter;
use super::theme::Role;

/// A row's identity: (namespace, name); namespace "" for cluster-scoped kinds.
pub type RowKey = (String, String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    /// The least width the column needs; the last flexible column takes the rest.
    pub min_width: u16,
    pub numeric: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub role: Role,
}

impl Cell {
    pub fn new(text: impl Into<String>, role: Role) -> Cell {
        Cell {
            text: text.into(),
            role,
        }
    }

    pub fn text(text: impl Into<String>) -> Cell {
        Cell::new(text, Role::Text)
    }
}

/// A value to sort a column by: numbers as numbers, text as text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey {
    Num(i64),
    Text(String),
}

/// What narrows a view beyond the filter: a drill-down from a parent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Scope {
    #[default]
    Everything,
    /// Pods selected by a workload or service: its namespace and selector labels.
    Selector {
        namespace: String,
        labels: std::collections::BTreeMap<String, String>,
    },
}

/// Everything that decides which rows a view lists, and in what order.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Limit to one namespace; None lists all namespaces.
    pub namespace: Option<String>,
    pub scope: Scope,
    pub filter: Filter,
    pub sort_column: usize,
    pub descending: bool,
}

pub trait TableView: Sync {
    fn title(&self) -> &'static str;
    fn columns(&self) -> &'static [Column];
    /// The kinds whose changes can change this view.
    fn depends_on(&self) -> &'static [Kind];
    /// The keys of the rows to list, in order.
    fn rows(&self, cache: &Cache, query: &Query, now: DateTime<Utc>) -> Vec<RowKey>;
    /// The cells of one row, or None if the object is gone.
    fn cells(&self, cache: &Cache, key: &RowKey, now: DateTime<Utc>) -> Option<Vec<Cell>>;
}

/// Orders keyed rows by the sort column, then by namespace and name so the
/// order is stable as objects change.
pub fn sort_rows(rows: &mut [(SortKey, RowKey)], descending: bool) {
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
pub fn age(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    t.map_or_else(
        || "<unknown>".to_string(),
        |t| crate::sim::table::human_duration(now - t),
    )
}

/// A k8s-openapi timestamp (jiff) as the chrono time the console computes with.
pub fn time(t: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.0.as_second(), t.0.subsec_nanosecond().max(0) as u32)
}

pub fn age_secs(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> i64 {
    t.map_or(0, |t| (now - t).num_seconds())
}

/// The table behind a view, for the views built so far.
pub fn table_for(view: crate::console::input::action::View) -> Option<&'static dyn TableView> {
    use crate::console::input::action::View;
    match view {
        View::Pods => Some(&pods::PodsView),
        _ => None,
    }
}
