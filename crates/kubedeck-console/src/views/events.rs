//! Events: Warnings first, then the newest first.

use chrono::{DateTime, Utc};
use kube::runtime::reflector::ObjectRef;

use super::{
    Cell, Column, Keep, Query, RowKey, SortKey, Sources, TableView, age, as_json, col, event_time,
    finish, visible,
};
use crate::cluster::{Cache, Kind, SlimEvent};
use crate::theme::Role;

pub(crate) struct EventsView;

const COLUMNS: &[Column] = &[
    col("TYPE", 7, false).keep(Keep::Whole).priority(1),
    col("NAMESPACE", 9, false).keep(Keep::Whole).priority(3),
    col("REASON", 18, false).keep(Keep::Whole).priority(2),
    col("OBJECT", 28, false).keep(Keep::End).priority(0),
    // Shown when it fits at its least width, after the short columns: the
    // message is what gets cut.
    col("MESSAGE", 20, false).keep(Keep::Text).priority(5),
    col("COUNT", 5, true).keep(Keep::Whole).priority(4),
    col("LAST SEEN", 9, true).keep(Keep::Whole).priority(2),
];

pub(crate) fn get(cache: &Cache, key: &RowKey) -> Option<std::sync::Arc<SlimEvent>> {
    cache.events().get(&ObjectRef::new(&key.1).within(&key.0))
}

/// `pod/web-x`: the involved object as kubectl names it.
pub(crate) fn object_name(e: &SlimEvent) -> String {
    let o = &e.involved_object;
    format!(
        "{}/{}",
        o.kind.as_deref().unwrap_or("?").to_lowercase(),
        o.name.as_deref().unwrap_or("?")
    )
}

pub(crate) fn is_warning(e: &SlimEvent) -> bool {
    e.type_.as_deref() == Some("Warning")
}

/// Warnings before Normals, newest first within each.
fn default_order(e: &SlimEvent) -> i64 {
    let ts = event_time(e).map_or(0, |t| t.timestamp());
    let normal = i64::from(!is_warning(e));
    (normal << 40) - ts
}

impl TableView for EventsView {
    fn title(&self) -> &'static str {
        "Events"
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn flex_column(&self) -> usize {
        3
    }

    fn depends_on(&self) -> &'static [Kind] {
        &[Kind::Event]
    }

    fn rows(&self, src: Sources<'_>, query: &Query, _now: DateTime<Utc>) -> Vec<RowKey> {
        let cache = src.cache;
        let keyed = cache
            .events()
            .state()
            .iter()
            .filter(|e| {
                // The filter searches what the engineer reads: reason,
                // object and message.
                let text = format!(
                    "{} {} {}",
                    e.reason.as_deref().unwrap_or(""),
                    object_name(e),
                    e.message.as_deref().unwrap_or("")
                );
                visible(
                    query,
                    e.metadata.namespace.as_deref().unwrap_or(""),
                    &text,
                    e.metadata.labels.as_ref(),
                )
            })
            .map(|e| {
                let sort = match query.sort_column {
                    1 => SortKey::Text(e.metadata.namespace.clone().unwrap_or_default()),
                    2 => SortKey::Text(e.reason.clone().unwrap_or_default()),
                    3 => SortKey::Text(object_name(e)),
                    4 => SortKey::Text(e.message.clone().unwrap_or_default()),
                    5 => SortKey::Num(e.count.unwrap_or(1).into()),
                    6 => SortKey::Num(-event_time(e).map_or(0, |t| t.timestamp())),
                    _ => SortKey::Num(default_order(e)),
                };
                (sort, super::key_of(&e.metadata))
            })
            .collect();
        finish(keyed, query.descending)
    }

    /// Order 0 is no column's.
    fn order_note(&self, _src: Sources<'_>, query: &Query) -> Option<&'static str> {
        (query.sort_column == 0).then_some("warnings first, newest first")
    }

    fn judges_faults(&self) -> bool {
        true
    }

    /// A Warning event.
    fn fault(&self, src: Sources<'_>, key: &RowKey, _now: DateTime<Utc>) -> Option<bool> {
        let e = get(src.cache, key)?;
        Some(is_warning(&e))
    }

    fn cells(&self, src: Sources<'_>, key: &RowKey, now: DateTime<Utc>) -> Option<Vec<Cell>> {
        let cache = src.cache;
        let e = get(cache, key)?;
        let warning = is_warning(&e);
        Some(vec![
            Cell::new(
                e.type_.clone().unwrap_or_else(|| "Normal".into()),
                if warning { Role::Warning } else { Role::Muted },
            ),
            Cell::text(e.metadata.namespace.clone().unwrap_or_default()),
            Cell::new(
                e.reason.clone().unwrap_or_default(),
                if warning { Role::Warning } else { Role::Text },
            ),
            Cell::text(object_name(&e)),
            Cell::text(e.message.clone().unwrap_or_default().replace('\n', " ")),
            Cell::text(e.count.unwrap_or(1).to_string()),
            Cell::text(age(event_time(&e), now)),
        ])
    }

    fn object(&self, cache: &Cache, key: &RowKey) -> Option<serde_json::Value> {
        as_json(&*get(cache, key)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::Filter;
    use crate::test_support::{cluster, now, sources};

    #[test]
    fn warnings_come_first_then_the_newest() {
        let cache = cluster();
        let rows = EventsView.rows(sources(&cache), &Query::default(), now());
        let reasons: Vec<String> = rows
            .iter()
            .map(|k| {
                EventsView.cells(sources(&cache), k, now()).expect("cells")[2]
                    .text
                    .clone()
            })
            .collect();
        assert_eq!(
            reasons,
            ["BackOff", "Failed", "SuccessfulRescale", "Scheduled"]
        );
        let first = EventsView
            .cells(sources(&cache), &rows[0], now())
            .expect("cells");
        assert_eq!(first[3].text, "pod/api-5f6b7c8d9f-abcde");
        assert_eq!(
            (first[5].text.as_str(), first[6].text.as_str()),
            ("12", "20s")
        );
    }

    #[test]
    fn the_filter_searches_reason_and_message() {
        let cache = cluster();
        let query = Query {
            filter: Filter::parse("imagepull").expect("parses"),
            ..Query::default()
        };
        let rows = EventsView.rows(sources(&cache), &query, now());
        assert_eq!(rows, [("payments".to_string(), "worker.1".to_string())]);
    }
}
