//! The generic view: any resource from discovery, its rows from the
//! browser's watch (`cluster::browse`), its columns the server's Table's.
//! Where the server has no Table: name and age.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use kube::core::DynamicObject;
use kube::runtime::reflector::ObjectRef;

use super::{
    Cell, Column, Keep, Query, RowKey, SortKey, Sources, TableView, age, age_secs, as_json,
    created, finish, key_of, visible_object,
};
use crate::cluster::Kind;
use crate::cluster::browse::{Browsed, ServerTable};

pub(crate) struct GenericView;

/// Where a shown column's text comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Namespace,
    Name,
    /// Live from the object's creation time, not the fetched text, which ages.
    Age,
    /// The server's Table, this column.
    Server(usize),
}

/// Column names come from each server's Tables, but the table widget takes
/// `&'static str`: each distinct name is leaked once. Resources have few
/// distinct column names, so this stays small.
fn intern(name: &str) -> &'static str {
    static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    let names = names.get_or_insert_with(HashSet::new);
    if let Some(n) = names.get(name) {
        return n;
    }
    let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.insert(leaked);
    leaked
}

/// The browsed resource, if it is the one this query shows.
fn browsed(src: Sources<'_>, query: &Query) -> Option<std::sync::Arc<Browsed>> {
    let b = src.cache.browse.get()?;
    (query.resource.as_deref() == Some(&*b.target.resource)).then_some(b)
}

/// The columns shown: NAMESPACE when listing a namespaced resource across
/// namespaces, then the server's, or NAME and AGE.
fn layout(b: &Browsed, table: &ServerTable) -> Vec<(Column, Source)> {
    let mut out = Vec::new();
    if b.target.resource.namespaced && b.target.namespace.is_none() {
        out.push((
            super::col("NAMESPACE", 9, false)
                .keep(Keep::Whole)
                .priority(2),
            Source::Namespace,
        ));
    }
    match table.columns.as_ref().filter(|c| !c.is_empty()) {
        Some(cols) => out.extend(cols.iter().enumerate().map(|(i, c)| {
            let source = if c.name == "AGE" {
                Source::Age
            } else {
                Source::Server(i)
            };
            let width = (c.name.chars().count() as u16).max(4);
            // The name keeps its distinguishing end and is never dropped;
            // age goes first on a narrow terminal, as on the built-in views.
            let column = super::col(intern(&c.name), width, c.numeric);
            let column = match source {
                Source::Server(0) => column.keep(Keep::End).priority(0),
                Source::Age => column.keep(Keep::Whole).priority(7),
                _ => column,
            };
            (column, source)
        })),
        None => {
            out.push((
                super::col("NAME", 4, false).keep(Keep::End).priority(0),
                Source::Name,
            ));
            out.push((
                super::col("AGE", 3, true).keep(Keep::Whole).priority(7),
                Source::Age,
            ));
        }
    }
    out
}

fn object(b: &Browsed, key: &RowKey) -> Option<std::sync::Arc<DynamicObject>> {
    let ar = b.target.resource.api_resource();
    let mut r = ObjectRef::<DynamicObject>::new_with(&key.1, ar);
    if !key.0.is_empty() {
        r = r.within(&key.0);
    }
    b.store.get(&r)
}

fn text(
    source: Source,
    key: &RowKey,
    obj: &DynamicObject,
    table: &ServerTable,
    now: DateTime<Utc>,
) -> String {
    match source {
        Source::Namespace => key.0.clone(),
        Source::Name => key.1.clone(),
        Source::Age => age(created(&obj.metadata), now),
        // A row the Table has not caught up with yet shows its name only.
        Source::Server(i) => match table.rows.get(key).and_then(|r| r.get(i)) {
            Some(t) => t.clone(),
            None if i == 0 => key.1.clone(),
            None => String::new(),
        },
    }
}

fn sort_key(
    source: Source,
    numeric: bool,
    text: String,
    obj: &DynamicObject,
    now: DateTime<Utc>,
) -> SortKey {
    match source {
        Source::Age => SortKey::Num(age_secs(created(&obj.metadata), now)),
        _ if numeric => SortKey::Num(text.trim().parse().unwrap_or(i64::MIN)),
        _ => SortKey::Text(text),
    }
}

impl TableView for GenericView {
    fn title(&self) -> &'static str {
        "Resources"
    }

    fn title_in(&self, _src: Sources<'_>, query: &Query) -> Cow<'static, str> {
        query
            .resource
            .as_ref()
            .map_or(Cow::Borrowed("Resources"), |r| Cow::Owned(r.full_name()))
    }

    fn columns(&self) -> &'static [Column] {
        &[]
    }

    fn columns_in(&self, src: Sources<'_>, query: &Query) -> Cow<'static, [Column]> {
        match browsed(src, query) {
            Some(b) => layout(&b, &b.table()).into_iter().map(|(c, _)| c).collect(),
            None => Cow::Borrowed(&[]),
        }
    }

    fn depends_on(&self) -> &'static [Kind] {
        &[Kind::Resource]
    }

    /// The name column keeps its width; the others give way on a narrow terminal.
    fn flex_in(&self, src: Sources<'_>, query: &Query) -> usize {
        browsed(src, query).map_or(0, |b| {
            let cols = layout(&b, &b.table());
            cols.iter()
                .position(|(c, s)| *s == Source::Name || c.name == "NAME")
                .unwrap_or(0)
        })
    }

    fn rows(&self, src: Sources<'_>, query: &Query, now: DateTime<Utc>) -> Vec<RowKey> {
        let Some(b) = browsed(src, query) else {
            return Vec::new();
        };
        let table = b.table();
        let cols = layout(&b, &table);
        let (column, source) = cols
            .get(query.sort_column)
            .map_or((super::col("", 0, false), Source::Name), |c| *c);
        let keyed = b
            .store
            .state()
            .iter()
            .filter(|o| visible_object(query, &o.metadata))
            .map(|o| {
                let key = key_of(&o.metadata);
                let t = text(source, &key, o, &table, now);
                (sort_key(source, column.numeric, t, o, now), key)
            })
            .collect();
        finish(keyed, query.descending)
    }

    fn cells(&self, src: Sources<'_>, key: &RowKey, now: DateTime<Utc>) -> Option<Vec<Cell>> {
        let b = src.cache.browse.get()?;
        let obj = object(&b, key)?;
        let table = b.table();
        Some(
            layout(&b, &table)
                .into_iter()
                .map(|(_, s)| Cell::text(text(s, key, &obj, &table, now)))
                .collect(),
        )
    }

    fn object(&self, cache: &crate::cluster::Cache, key: &RowKey) -> Option<serde_json::Value> {
        let b = cache.browse.get()?;
        let mut obj = object(&b, key)?.as_ref().clone();
        let r = &b.target.resource;
        obj.types = Some(kube::core::TypeMeta {
            api_version: r.api_version(),
            kind: r.kind.clone(),
        });
        // The watch keeps metadata only: no spec, status or data (a
        // Secret's values never reach the console).
        let mut v = as_json(&obj)?;
        if let Some(o) = v.as_object_mut() {
            o.retain(|k, _| matches!(k.as_str(), "apiVersion" | "kind" | "metadata"));
        }
        Some(v)
    }
}
