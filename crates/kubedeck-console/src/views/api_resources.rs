//! `:api-resources`: every resource the server's discovery lists, as
//! `kubectl api-resources` shows them. A row's key is (group, plural).

use chrono::{DateTime, Utc};

use super::{Cell, Column, Query, RowKey, SortKey, Sources, TableView, col, finish};
use crate::cluster::Kind;
use crate::cluster::discovery::ResourceInfo;

pub(crate) struct ApiResourcesView;

const COLUMNS: &[Column] = &[
    col("NAME", 20, false),
    col("SHORTNAMES", 10, false),
    col("APIVERSION", 10, false),
    col("NAMESPACED", 10, false),
    col("KIND", 10, false),
];

/// The resource a row lists.
pub(crate) fn find<'a>(resources: &'a [ResourceInfo], key: &RowKey) -> Option<&'a ResourceInfo> {
    resources
        .iter()
        .find(|r| r.group == key.0 && r.plural == key.1)
}

fn cell_texts(r: &ResourceInfo) -> [String; 5] {
    [
        r.plural.clone(),
        r.short_names.join(","),
        r.api_version(),
        r.namespaced.to_string(),
        r.kind.clone(),
    ]
}

impl TableView for ApiResourcesView {
    fn title(&self) -> &'static str {
        "API resources"
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn depends_on(&self) -> &'static [Kind] {
        &[]
    }

    fn flex_column(&self) -> usize {
        4
    }

    fn rows(&self, src: Sources<'_>, query: &Query, _now: DateTime<Utc>) -> Vec<RowKey> {
        let column = query.sort_column.min(COLUMNS.len() - 1);
        let keyed = src
            .resources
            .iter()
            // The filter reads the group as the namespace, and any of the
            // resource's names or its kind as the name.
            .filter(|r| {
                r.names()
                    .chain([r.kind.clone()])
                    .any(|n| query.filter.matches(&r.group, &n, None))
            })
            .map(|r| {
                let text = cell_texts(r)[column].clone();
                (SortKey::Text(text), (r.group.clone(), r.plural.clone()))
            })
            .collect();
        finish(keyed, query.descending)
    }

    fn cells(&self, src: Sources<'_>, key: &RowKey, _now: DateTime<Utc>) -> Option<Vec<Cell>> {
        let r = find(src.resources, key)?;
        Some(cell_texts(r).into_iter().map(Cell::text).collect())
    }
}
