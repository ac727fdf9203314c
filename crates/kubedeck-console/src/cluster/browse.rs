//! The generic browser's data: the one resource whose view is open,
//! watched only while it is. Two tasks fill it: the watch of `watch.rs`
//! (the same sessions, back-off and health as every kind), whose store
//! keeps metadata only, says which objects exist; the server's own Table
//! gives their columns, fetched whole when the watch reports changes, at
//! most one fetch at a time, so a burst of changes costs one more fetch.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use kube::api::ListParams;
use kube::core::{ApiResource, DynamicObject};
use kube::runtime::reflector::Store;
use kube::runtime::reflector::store::Writer;
use kube::{Api, Client, Resource};
use serde_json::Value;
use tokio::sync::Notify;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use super::cache::{Kind, Loading};
use super::discovery::ResourceInfo;
use super::watch::{self, Pending, WatchMsg};

/// The Table kubectl asks for; a server without one answers with a list.
const TABLE_ACCEPT: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
const PAGE: u32 = 500;

/// What the browser watches: a resource, in a namespace or all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowseTarget {
    pub resource: Arc<ResourceInfo>,
    pub namespace: Option<String>,
}

/// A column of the server's Table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableColumn {
    pub(crate) name: String,
    pub(crate) numeric: bool,
}

/// The server's Table of the resource, as last fetched.
#[derive(Debug, Default)]
pub(crate) struct ServerTable {
    /// None until the first answer, and when the server has no Table for
    /// this resource (the view then shows name and age).
    pub(crate) columns: Option<Vec<TableColumn>>,
    /// Each object's cells, by (namespace, name).
    pub(crate) rows: HashMap<(String, String), Vec<String>>,
}

/// The browsed resource's stores.
pub struct Browsed {
    pub(crate) target: BrowseTarget,
    /// Objects as metadata only (see `Trim for DynamicObject`).
    pub(crate) store: Store<DynamicObject>,
    pub(crate) table: RwLock<ServerTable>,
}

impl Browsed {
    pub(crate) fn table(&self) -> std::sync::RwLockReadGuard<'_, ServerTable> {
        self.table.read().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Each object's cells, by (namespace, name), for `BrowseSlot::fill`.
pub type TableCells = Vec<((String, String), Vec<String>)>;

/// Where the cache finds the browsed resource; empty while no generic view is open.
#[derive(Clone, Default)]
pub struct BrowseSlot(Arc<RwLock<Option<Arc<Browsed>>>>);

impl BrowseSlot {
    pub(crate) fn get(&self) -> Option<Arc<Browsed>> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, browsed: Option<Arc<Browsed>>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = browsed;
    }

    /// For tests and benchmarks: the target with these objects (as the API
    /// serves them) and these Table cells.
    pub fn fill(
        &self,
        target: BrowseTarget,
        objects: &[Value],
        table: Option<(Vec<(String, bool)>, TableCells)>,
    ) {
        use kube::runtime::watcher::Event;
        let mut writer = Writer::new(target.resource.api_resource());
        for o in objects {
            if let Ok(mut obj) = serde_json::from_value::<DynamicObject>(o.clone()) {
                watch::Trim::trim(&mut obj);
                writer.apply_watcher_event(&Event::Apply(obj));
            }
        }
        let table = table.map_or_else(ServerTable::default, |(cols, rows)| ServerTable {
            columns: Some(
                cols.into_iter()
                    .map(|(name, numeric)| TableColumn { name, numeric })
                    .collect(),
            ),
            rows: rows.into_iter().collect(),
        });
        self.set(Some(Arc::new(Browsed {
            target,
            store: writer.as_reader(),
            table: RwLock::new(table),
        })));
    }
}

/// Stops browsing: the tasks end and the stores go.
pub(crate) fn stop(slot: &BrowseSlot, tasks: &mut Vec<JoinHandle<()>>) {
    for t in tasks.drain(..) {
        t.abort();
    }
    slot.set(None);
}

/// Starts the watch and the Table fetcher of `target` into `slot`.
pub(crate) fn start(
    client: &Client,
    target: BrowseTarget,
    slot: &BrowseSlot,
    tx: UnboundedSender<WatchMsg>,
    pending: Arc<Pending>,
    loading: Arc<Loading>,
) -> Vec<JoinHandle<()>> {
    let ar = target.resource.api_resource();
    let writer = Writer::new(ar.clone());
    let browsed = Arc::new(Browsed {
        target: target.clone(),
        store: writer.as_reader(),
        table: RwLock::new(ServerTable::default()),
    });
    slot.set(Some(browsed.clone()));
    let api: Api<DynamicObject> = match (&target.namespace, target.resource.namespaced) {
        (Some(ns), true) => Api::namespaced_with(client.clone(), ns, &ar),
        _ => Api::all_with(client.clone(), &ar),
    };
    let changed = Arc::new(Notify::new());
    let watcher = watch::spawn_browse(
        api,
        writer,
        tx.clone(),
        pending.clone(),
        loading,
        changed.clone(),
    );
    let client = client.clone();
    let fetcher = tokio::spawn(async move {
        let ns = target
            .namespace
            .as_deref()
            .filter(|_| target.resource.namespaced);
        loop {
            changed.notified().await;
            match fetch_table(&client, &ar, ns).await {
                Ok(table) => {
                    *browsed
                        .table
                        .write()
                        .unwrap_or_else(PoisonError::into_inner) = table;
                    if pending.raise(Kind::Resource)
                        && tx.send(WatchMsg::Changed(Kind::Resource)).is_err()
                    {
                        return;
                    }
                }
                // The watch reports the server's trouble; the next change fetches again.
                Err(e) => tracing::info!("Table of {} failed: {e}", ar.plural),
            }
        }
    });
    vec![watcher, fetcher]
}

/// The whole server-side Table, page by page, each row with its object's
/// metadata (to know whose row it is); a server that answers with a plain
/// list, or 406, has none.
async fn fetch_table(
    client: &Client,
    ar: &ApiResource,
    ns: Option<&str>,
) -> Result<ServerTable, String> {
    let url = DynamicObject::url_path(ar, ns);
    let mut lp = ListParams::default().limit(PAGE);
    let mut table = ServerTable::default();
    loop {
        let mut req = kube::core::Request::new(&url)
            .list(&lp)
            .map_err(|e| e.to_string())?;
        let uri = format!("{}&includeObject=Metadata", req.uri());
        *req.uri_mut() = uri
            .parse()
            .map_err(|e: http::uri::InvalidUri| e.to_string())?;
        req.headers_mut().insert(
            http::header::ACCEPT,
            http::HeaderValue::from_static(TABLE_ACCEPT),
        );
        let page: Value = match client.request(req).await {
            Ok(v) => v,
            Err(kube::Error::Api(s)) if s.code == 406 => return Ok(ServerTable::default()),
            Err(e) => return Err(e.to_string()),
        };
        if page["kind"] != "Table" {
            return Ok(ServerTable::default());
        }
        read_page(&page, ns, &mut table);
        match page["metadata"]["continue"]
            .as_str()
            .filter(|c| !c.is_empty())
        {
            Some(token) => lp = lp.continue_token(token),
            None => return Ok(table),
        }
    }
}

/// Adds one page of a Table: its columns (those kubectl shows without
/// `-o wide`) and its rows' cells as text.
pub(crate) fn read_page(page: &Value, ns: Option<&str>, table: &mut ServerTable) {
    let defs = page["columnDefinitions"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let shown: Vec<usize> = (0..defs.len())
        .filter(|&i| defs[i]["priority"].as_i64().unwrap_or(0) == 0)
        .collect();
    if table.columns.is_none() {
        table.columns = Some(
            shown
                .iter()
                .map(|&i| TableColumn {
                    name: defs[i]["name"].as_str().unwrap_or("").to_uppercase(),
                    numeric: matches!(defs[i]["type"].as_str(), Some("integer" | "number")),
                })
                .collect(),
        );
    }
    let name_col = defs.iter().position(|d| d["format"] == "name");
    for row in page["rows"].as_array().into_iter().flatten() {
        let cells = row["cells"].as_array().map_or(&[][..], Vec::as_slice);
        let meta = &row["object"]["metadata"];
        let name = meta["name"]
            .as_str()
            .or_else(|| name_col.and_then(|i| cells.get(i)?.as_str()));
        let Some(name) = name else { continue };
        let namespace = meta["namespace"].as_str().or(ns).unwrap_or("");
        let text = shown
            .iter()
            .map(|&i| cells.get(i).map_or_else(String::new, cell_text))
            .collect();
        table
            .rows
            .insert((namespace.to_string(), name.to_string()), text);
    }
}

/// A cell as kubectl prints it: `<none>` for null.
fn cell_text(v: &Value) -> String {
    match v {
        Value::Null => "<none>".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_table_page_gives_the_default_columns_and_each_rows_cells_by_object() {
        let page = json!({
            "kind": "Table",
            "columnDefinitions": [
                {"name": "Name", "type": "string", "format": "name", "priority": 0},
                {"name": "Type", "type": "string", "priority": 0},
                {"name": "Data", "type": "integer", "priority": 0},
                {"name": "Extra", "type": "string", "priority": 1},
                {"name": "Age", "type": "date", "priority": 0},
            ],
            "rows": [
                {"cells": ["db", "Opaque", 2, "x", "5m"],
                 "object": {"metadata": {"name": "db", "namespace": "shop"}}},
                {"cells": ["bare", null, 0, "x", "1d"]},
            ],
        });
        let mut table = ServerTable::default();
        read_page(&page, Some("other"), &mut table);
        let names: Vec<_> = table
            .columns
            .iter()
            .flatten()
            .map(|c| (c.name.as_str(), c.numeric))
            .collect();
        assert_eq!(
            names,
            [
                ("NAME", false),
                ("TYPE", false),
                ("DATA", true),
                ("AGE", false)
            ]
        );
        assert_eq!(
            table.rows[&("shop".into(), "db".into())],
            ["db", "Opaque", "2", "5m"]
        );
        // Without an object the name column and the request's namespace key the row.
        assert_eq!(
            table.rows[&("other".into(), "bare".into())],
            ["bare", "<none>", "0", "1d"]
        );
    }
}
