//! The simulated cluster's object store: every object as JSON, one
//! cluster-wide monotonic resourceVersion, and a retained window of changes
//! from which watches resume. Controllers and the HTTP API both go through
//! it, so every write is validated, versioned and broadcast the same way.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use chrono::{DateTime, SecondsFormat, Utc};
use rand::Rng;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::crd::Registry;
use super::error::{ApiError, ApiResult};
use super::resources::{self, ResourceDef};
use super::{defaults, validate};

pub type Obj = Arc<Stored>;

/// A stored object: its JSON, never changed once stored (a write stores a
/// new one), and that JSON serialized, kept from the first list that writes
/// it, so later lists copy bytes instead of walking the tree again.
#[derive(Debug)]
pub struct Stored {
    value: Value,
    json: OnceLock<Box<[u8]>>,
}

impl Stored {
    pub fn new(value: Value) -> Obj {
        Arc::new(Stored {
            value,
            json: OnceLock::new(),
        })
    }

    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The object as `serde_json::to_vec` writes it.
    pub(crate) fn json(&self) -> &[u8] {
        self.json
            .get_or_init(|| serde_json::to_vec(&self.value).unwrap_or_default().into())
    }
}

impl std::ops::Deref for Stored {
    type Target = Value;

    fn deref(&self) -> &Value {
        &self.value
    }
}

impl PartialEq for Stored {
    fn eq(&self, other: &Stored) -> bool {
        self.value == other.value
    }
}

impl serde::Serialize for Stored {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}
/// (namespace, name); the namespace is "" for cluster-scoped kinds.
pub(crate) type ObjKey = (String, String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChangeType {
    Added,
    Modified,
    Deleted,
}

#[derive(Debug)]
pub(crate) struct Change {
    pub(crate) rv: u64,
    pub(crate) res: &'static ResourceDef,
    pub(crate) kind: ChangeType,
    pub(crate) object: Obj,
    /// The object before a modification or deletion.
    pub(crate) old: Option<Obj>,
}

/// What a watch starts from: the backlog to send first, then the live feed.
pub(crate) struct WatchStart {
    pub(crate) initial: Vec<Arc<Change>>,
    pub(crate) rx: broadcast::Receiver<Arc<Change>>,
    pub(crate) rv: u64,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct DeleteOptions {
    pub(crate) grace_period_seconds: Option<i64>,
    /// Orphan, Background or Foreground.
    pub(crate) propagation_policy: Option<String>,
    pub(crate) precondition_uid: Option<String>,
    pub(crate) precondition_rv: Option<String>,
}

struct Inner {
    rv: u64,
    tables: HashMap<TableKey, BTreeMap<ObjKey, Obj>>,
    history: VecDeque<Arc<Change>>,
    history_cap: usize,
}

impl Inner {
    fn object(&self, res: &'static ResourceDef, key: &ObjKey) -> Option<Obj> {
        self.tables.get(&table_key(res))?.get(key).cloned()
    }
}

pub struct Store {
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Arc<Change>>,
    /// The kinds the stored CRDs serve, kept in step with them.
    registry: Registry,
}

/// A kind's table: its group and plural, which every served version of a
/// custom kind shares (see `ResourceDef::same_table`).
type TableKey = (&'static str, &'static str);

fn table_key(res: &'static ResourceDef) -> TableKey {
    (res.group, res.plural)
}

/// Objects of one table after `after` that pass `filter`, at most `limit`,
/// and whether more remain.
fn page(
    table: &BTreeMap<ObjKey, Obj>,
    ns: Option<&str>,
    after: Option<&ObjKey>,
    limit: usize,
    filter: &dyn Fn(&Value) -> bool,
) -> (Vec<Obj>, bool) {
    use std::ops::Bound;
    let lower = match (after, ns) {
        (Some(k), _) => Bound::Excluded(k.clone()),
        (None, Some(ns)) => Bound::Included((ns.to_string(), String::new())),
        (None, None) => Bound::Unbounded,
    };
    let mut out = Vec::new();
    for ((k_ns, _), obj) in table.range((lower, Bound::Unbounded)) {
        if let Some(ns) = ns
            && k_ns != ns
        {
            break;
        }
        if !filter(obj) {
            continue;
        }
        if out.len() == limit {
            return (out, true);
        }
        out.push(obj.clone());
    }
    (out, false)
}

pub(crate) fn now_rfc3339() -> String {
    fmt_time(Utc::now())
}

pub(crate) fn fmt_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

pub(crate) fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj["metadata"][field].as_str().unwrap_or("")
}

pub(crate) fn obj_key(obj: &Value) -> ObjKey {
    (
        meta_str(obj, "namespace").to_string(),
        meta_str(obj, "name").to_string(),
    )
}

/// kube's `rand` alphabet: no vowels and no confusable characters, so
/// generated names and hashes never spell words.
pub(crate) const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The random suffix the API server appends to `generateName`.
pub fn random_suffix(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHANUMS[rng.random_range(0..ALPHANUMS.len())] as char)
        .collect()
}

fn new_uid() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Store {
    pub fn new(history_cap: usize) -> Arc<Store> {
        let (tx, _) = broadcast::channel(65_536);
        Arc::new(Store {
            inner: Mutex::new(Inner {
                rv: 1,
                tables: HashMap::new(),
                history: VecDeque::new(),
                history_cap: history_cap.max(1),
            }),
            tx,
            registry: Registry::default(),
        })
    }

    /// Every kind served, built-in and custom.
    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic inside a critical section leaves plain data behind; keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn resource_version(&self) -> u64 {
        self.lock().rv
    }

    /// A live feed of every change, for controllers.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.tx.subscribe()
    }

    pub fn get(&self, res: &'static ResourceDef, ns: &str, name: &str) -> Option<Obj> {
        self.lock().object(res, &(ns.to_string(), name.to_string()))
    }

    /// Every object of a kind, in one namespace or (None) all, sorted by key.
    pub fn list(&self, res: &'static ResourceDef, ns: Option<&str>) -> Vec<Obj> {
        self.list_page(res, ns, None, usize::MAX, &|_| true).0
    }

    /// One page of a list: objects after `after` that pass `filter`, at most
    /// `limit`; also whether more remain, and the list's resourceVersion.
    pub(crate) fn list_page(
        &self,
        res: &'static ResourceDef,
        ns: Option<&str>,
        after: Option<&ObjKey>,
        limit: usize,
        filter: &dyn Fn(&Value) -> bool,
    ) -> (Vec<Obj>, bool, u64) {
        let inner = self.lock();
        let rv = inner.rv;
        let Some(table) = inner.tables.get(&table_key(res)) else {
            return (Vec::new(), false, rv);
        };
        let (out, more) = page(table, ns, after, limit, filter);
        (out, more, rv)
    }

    /// A page of the kind as it was at resourceVersion `at` (a list with
    /// `resourceVersionMatch=Exact`), rebuilt by undoing the retained
    /// changes after it; 410 Gone once `at` is older than the window, as
    /// etcd answers for a compacted revision.
    pub(crate) fn list_page_at(
        &self,
        res: &'static ResourceDef,
        ns: Option<&str>,
        after: Option<&ObjKey>,
        limit: usize,
        filter: &dyn Fn(&Value) -> bool,
        at: u64,
    ) -> ApiResult<(Vec<Obj>, bool)> {
        let inner = self.lock();
        if at >= inner.rv {
            let empty = BTreeMap::new();
            let table = inner.tables.get(&table_key(res)).unwrap_or(&empty);
            return Ok(page(table, ns, after, limit, filter));
        }
        if at + 1 < Self::oldest(&inner) {
            return Err(ApiError::gone(
                "The resourceVersion for the provided list is too old.",
            ));
        }
        let mut table = inner
            .tables
            .get(&table_key(res))
            .cloned()
            .unwrap_or_default();
        for c in inner.history.iter().rev() {
            if c.rv <= at {
                break;
            }
            if !c.res.same_table(res) {
                continue;
            }
            let key = obj_key(&c.object);
            match (&c.kind, &c.old) {
                (ChangeType::Added, _) => {
                    table.remove(&key);
                }
                (_, Some(old)) => {
                    table.insert(key, old.clone());
                }
                (_, None) => {}
            }
        }
        Ok(page(&table, ns, after, limit, filter))
    }

    /// The first resourceVersion the retained window still holds a change
    /// for: watches and exact lists reach back to one before it.
    fn oldest(inner: &Inner) -> u64 {
        inner.history.front().map_or(inner.rv, |c| c.rv)
    }

    pub(crate) fn count(&self, res: &'static ResourceDef) -> usize {
        self.lock()
            .tables
            .get(&table_key(res))
            .map_or(0, |t| t.len())
    }

    /// Starts a watch. With `since`, replays the retained changes after it
    /// (410 Gone if it is older than the window; the caller drops live
    /// changes up to it when it is ahead of the store); without, the current
    /// objects come first as ADDED, as a real server does.
    pub(crate) fn watch(
        &self,
        res: &'static ResourceDef,
        since: Option<u64>,
    ) -> ApiResult<WatchStart> {
        let inner = self.lock();
        let rx = self.tx.subscribe();
        let initial = match since {
            // From the future, as after a restart that lost the history:
            // nothing yet, as on kube-apiserver, which holds such a watch
            // open and sends only changes newer than the version asked for.
            Some(since) if since >= inner.rv => Vec::new(),
            Some(since) => {
                let oldest = Self::oldest(&inner);
                if since + 1 < oldest {
                    return Err(ApiError::gone(format!(
                        "too old resource version: {since} ({})",
                        oldest - 1
                    )));
                }
                inner
                    .history
                    .iter()
                    .filter(|c| c.rv > since && c.res.same_table(res))
                    .cloned()
                    .collect()
            }
            None => inner
                .tables
                .get(&table_key(res))
                .map(|t| {
                    t.values()
                        .map(|o| {
                            Arc::new(Change {
                                rv: inner.rv,
                                res,
                                kind: ChangeType::Added,
                                object: o.clone(),
                                old: None,
                            })
                        })
                        .collect()
                })
                .unwrap_or_default(),
        };
        Ok(WatchStart {
            initial,
            rx,
            rv: inner.rv,
        })
    }

    fn commit(
        &self,
        inner: &mut Inner,
        res: &'static ResourceDef,
        kind: ChangeType,
        mut obj: Value,
        old: Option<Obj>,
    ) -> Obj {
        inner.rv += 1;
        let rv = inner.rv;
        let key = obj_key(&obj);
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let obj = Stored::new(obj);
        let table = inner.tables.entry(table_key(res)).or_default();
        if kind == ChangeType::Deleted {
            table.remove(&key);
        } else {
            table.insert(key, obj.clone());
        }
        let change = Arc::new(Change {
            rv,
            res,
            kind,
            object: obj.clone(),
            old,
        });
        inner.history.push_back(change.clone());
        while inner.history.len() > inner.history_cap {
            inner.history.pop_front();
        }
        // No receivers is fine: nobody is watching yet.
        let _ = self.tx.send(change);
        if std::ptr::eq(res, &resources::CRDS) {
            self.crd_changed(inner, kind, &obj);
        }
        obj
    }

    /// Serves what the CRDs now define. A deleted CRD takes its objects
    /// with it, each one a DELETED event for its watchers, as the
    /// apiextensions cleanup finalizer does before the CRD goes.
    fn crd_changed(&self, inner: &mut Inner, kind: ChangeType, crd: &Value) {
        if kind == ChangeType::Deleted
            && let Some(res) = crate::crd::kind_of(crd)
        {
            let objs: Vec<Obj> = inner
                .tables
                .get(&table_key(res))
                .map(|t| t.values().cloned().collect())
                .unwrap_or_default();
            for o in objs {
                let next = (*o).clone();
                self.commit(inner, res, ChangeType::Deleted, next, Some(o));
            }
            inner.tables.remove(&table_key(res));
        }
        let crds = inner.tables.get(&table_key(&resources::CRDS));
        self.registry
            .refresh(crds.into_iter().flat_map(|t| t.values().map(|o| o.value())));
    }

    /// Creates an object, as POST does: see `prepare_create`, then the
    /// namespace must be active and the name free.
    pub(crate) fn create(&self, res: &'static ResourceDef, obj: Value) -> ApiResult<Obj> {
        let obj = prepare_create(res, obj)?;

        let mut inner = self.lock();
        let key = obj_key(&obj);
        if res.namespaced && !Self::namespace_active(&inner, &key.0) {
            return Err(namespace_problem(&inner, &key.0, &key.1, res));
        }
        if inner.object(res, &key).is_some() {
            return Err(ApiError::already_exists(res, &key.1));
        }
        Ok(self.commit(&mut inner, res, ChangeType::Added, obj, None))
    }

    fn namespace_active(inner: &Inner, ns: &str) -> bool {
        inner
            .tables
            .get(&table_key(&resources::NAMESPACES))
            .and_then(|t| t.get(&(String::new(), ns.to_string())))
            .is_some_and(|n| n["metadata"]["deletionTimestamp"].is_null())
    }

    /// Replaces an object, as PUT does. The status (for kinds with a status
    /// subresource) is kept from the stored object; a stale resourceVersion
    /// is a 409.
    pub(crate) fn update(&self, res: &'static ResourceDef, obj: Value) -> ApiResult<Obj> {
        self.write(res, obj, WriteMode::Main)
    }

    /// Replaces only the status, as PUT on `/status` does.
    pub(crate) fn update_status(&self, res: &'static ResourceDef, obj: Value) -> ApiResult<Obj> {
        self.write(res, obj, WriteMode::Status)
    }

    /// What an update (`status`: of the status) would store, checked
    /// (conflict, then validation) and stored nothing: a dry run's answer,
    /// with the current resourceVersion, as kube-apiserver's.
    pub(crate) fn dry_run_update(
        &self,
        res: &'static ResourceDef,
        obj: Value,
        status: bool,
    ) -> ApiResult<Value> {
        let mode = if status {
            WriteMode::Status
        } else {
            WriteMode::Main
        };
        let inner = self.lock();
        let (next, _) = Self::prepare_write(&inner, res, obj, mode)?;
        Ok(next)
    }

    fn write(&self, res: &'static ResourceDef, obj: Value, mode: WriteMode) -> ApiResult<Obj> {
        let mut inner = self.lock();
        let (next, current) = Self::prepare_write(&inner, res, obj, mode)?;
        Ok(self.finish_write(&mut inner, res, next, current))
    }

    /// The object an update would store, and the one it replaces.
    fn prepare_write(
        inner: &Inner,
        res: &'static ResourceDef,
        mut obj: Value,
        mode: WriteMode,
    ) -> ApiResult<(Value, Obj)> {
        if !obj.is_object() || !obj["metadata"].is_object() {
            return Err(ApiError::bad_request("the body is not a Kubernetes object"));
        }
        let key = obj_key(&obj);
        let Some(current) = inner.object(res, &key) else {
            return Err(ApiError::not_found(res, &key.1));
        };
        let sent_rv = meta_str(&obj, "resourceVersion");
        if !sent_rv.is_empty() && sent_rv != meta_str(&current, "resourceVersion") {
            return Err(ApiError::stale(res, &key.1));
        }
        let mut next = match mode {
            WriteMode::Status => {
                let mut next = (*current).clone();
                next["status"] = obj["status"].take();
                next
            }
            WriteMode::Main => {
                carry_system_fields(&mut obj, &current, res);
                if res.has_subresource("status") {
                    obj["status"] = current["status"].clone();
                }
                defaults::apply(res, &mut obj);
                bump_generation(res, &mut obj, &current);
                obj
            }
        };
        validate::validate(res, &next, Some(&current))?;
        // Stored, it gets a new version; checked only, it keeps the one
        // it was checked against.
        next["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
        Ok((next, current))
    }

    /// Stores a write, or removes the object when its finalizers are done.
    fn finish_write(
        &self,
        inner: &mut Inner,
        res: &'static ResourceDef,
        mut next: Value,
        current: Obj,
    ) -> Obj {
        let mut without_rv = next.clone();
        without_rv["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
        if &without_rv == current.value() {
            return current;
        }
        let finalizers_done = next["metadata"]["finalizers"]
            .as_array()
            .is_none_or(|f| f.is_empty());
        if !next["metadata"]["deletionTimestamp"].is_null()
            && finalizers_done
            && !is_pod_awaiting_kubelet(res, &next)
        {
            next["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
            return self.commit(inner, res, ChangeType::Deleted, next, Some(current));
        }
        self.commit(inner, res, ChangeType::Modified, next, Some(current))
    }

    /// Read-modify-write for controllers: `f` edits a copy of the current
    /// object (status included) and the result is stored atomically. Returns
    /// None when the object does not exist; an unchanged object is not
    /// written.
    pub(crate) fn modify(
        &self,
        res: &'static ResourceDef,
        ns: &str,
        name: &str,
        f: impl FnOnce(&mut Value),
    ) -> ApiResult<Option<Obj>> {
        let key = (ns.to_string(), name.to_string());
        let mut inner = self.lock();
        let Some(current) = inner.object(res, &key) else {
            return Ok(None);
        };
        let mut next = (*current).clone();
        f(&mut next);
        carry_system_fields(&mut next, &current, res);
        bump_generation(res, &mut next, &current);
        validate::validate(res, &next, Some(&current))?;
        Ok(Some(self.finish_write(&mut inner, res, next, current)))
    }

    /// Deletes an object as DELETE does. Scheduled pods and objects with
    /// finalizers are only marked (deletionTimestamp); the kubelet or the
    /// finalizer's owner removes them later. Dependents are handled by the
    /// garbage collector according to the propagation policy.
    pub(crate) fn delete(
        &self,
        res: &'static ResourceDef,
        ns: &str,
        name: &str,
        opts: &DeleteOptions,
    ) -> ApiResult<Obj> {
        let key = (ns.to_string(), name.to_string());
        let mut inner = self.lock();
        let Some(current) = inner.object(res, &key) else {
            return Err(ApiError::not_found(res, name));
        };
        if let Some(uid) = &opts.precondition_uid
            && uid != meta_str(&current, "uid")
        {
            return Err(ApiError::conflict(
                res,
                name,
                "Precondition failed: UID in precondition does not match the UID of the object",
            ));
        }
        if let Some(rv) = &opts.precondition_rv
            && rv != meta_str(&current, "resourceVersion")
        {
            return Err(ApiError::stale(res, name));
        }
        let mut next = (*current).clone();
        let now = Utc::now();
        let mut mark = false;
        if std::ptr::eq(res, &resources::PODS)
            && !current["spec"]["nodeName"]
                .as_str()
                .unwrap_or("")
                .is_empty()
        {
            let spec_grace = current["spec"]["terminationGracePeriodSeconds"]
                .as_i64()
                .unwrap_or(30);
            let grace = opts.grace_period_seconds.unwrap_or(spec_grace).max(0);
            if grace > 0 {
                let existing = current["metadata"]["deletionGracePeriodSeconds"].as_i64();
                if existing.is_some_and(|g| g <= grace) {
                    return Ok(current);
                }
                next["metadata"]["deletionTimestamp"] =
                    json!(fmt_time(now + chrono::Duration::seconds(grace)));
                next["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
                mark = true;
            }
        }
        if opts.propagation_policy.as_deref() == Some("Foreground") {
            add_finalizer(&mut next, "foregroundDeletion");
        } else if opts.propagation_policy.as_deref() == Some("Orphan") {
            add_finalizer(&mut next, "orphan");
        }
        let has_finalizers = next["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| !f.is_empty());
        if has_finalizers {
            if next["metadata"]["deletionTimestamp"].is_null() {
                next["metadata"]["deletionTimestamp"] = json!(fmt_time(now));
                next["metadata"]["deletionGracePeriodSeconds"] = json!(0);
            }
            mark = true;
        }
        if mark {
            return Ok(self.commit(&mut inner, res, ChangeType::Modified, next, Some(current)));
        }
        Ok(self.commit(&mut inner, res, ChangeType::Deleted, next, Some(current)))
    }

    /// Removes an object at once, whatever its state: the kubelet's final
    /// delete of a terminated pod, or a forced delete.
    pub(crate) fn remove(&self, res: &'static ResourceDef, ns: &str, name: &str) -> Option<Obj> {
        let key = (ns.to_string(), name.to_string());
        let mut inner = self.lock();
        let current = inner.object(res, &key)?;
        let next = (*current).clone();
        Some(self.commit(&mut inner, res, ChangeType::Deleted, next, Some(current)))
    }

    /// Sets an object's creation time, which no write may change: for a
    /// scenario's objects that existed before the simulator started.
    pub(crate) fn backdate(
        &self,
        res: &'static ResourceDef,
        ns: &str,
        name: &str,
        created: DateTime<Utc>,
    ) -> Option<Obj> {
        let key = (ns.to_string(), name.to_string());
        let mut inner = self.lock();
        let current = inner.object(res, &key)?;
        let mut next = (*current).clone();
        next["metadata"]["creationTimestamp"] = json!(fmt_time(created));
        Some(self.finish_write(&mut inner, res, next, current))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum WriteMode {
    Main,
    Status,
}

fn meta_str_v<'a>(meta: &'a Value, field: &str) -> &'a str {
    meta[field].as_str().unwrap_or("")
}

fn add_finalizer(obj: &mut Value, f: &str) {
    let list = &mut obj["metadata"]["finalizers"];
    if !list.is_array() {
        *list = json!([]);
    }
    if let Some(a) = list.as_array_mut()
        && !a.iter().any(|x| x == f)
    {
        a.push(json!(f));
    }
}

/// An object as a create would store it: the name generated from
/// `generateName`, uid, timestamps and generation set, defaults applied and
/// the whole validated. Nothing is stored: a dry run stops here.
pub(crate) fn prepare_create(res: &'static ResourceDef, mut obj: Value) -> ApiResult<Value> {
    if !obj.is_object() {
        return Err(ApiError::bad_request("the body is not a JSON object"));
    }
    if !obj["metadata"].is_object() {
        obj["metadata"] = json!({});
    }
    let meta = &mut obj["metadata"];
    if meta_str_v(meta, "name").is_empty() {
        let prefix = meta_str_v(meta, "generateName").to_string();
        if prefix.is_empty() {
            return Err(ApiError::invalid(
                res,
                "",
                &[(
                    "metadata.name".into(),
                    "Required value: name or generateName is required".into(),
                )],
            ));
        }
        meta["name"] = json!(format!("{prefix}{}", random_suffix(5)));
    }
    if !res.namespaced {
        if let Some(m) = meta.as_object_mut() {
            m.remove("namespace");
        }
    } else if meta_str_v(meta, "namespace").is_empty() {
        meta["namespace"] = json!("default");
    }
    meta["uid"] = json!(new_uid());
    meta["creationTimestamp"] = json!(now_rfc3339());
    if res.has_generation() {
        meta["generation"] = json!(1);
    } else if let Some(m) = meta.as_object_mut() {
        m.remove("generation");
    }
    if let Some(m) = meta.as_object_mut() {
        m.remove("resourceVersion");
        m.remove("deletionTimestamp");
        m.remove("deletionGracePeriodSeconds");
    }
    obj["apiVersion"] = json!(res.api_version());
    obj["kind"] = json!(res.kind);
    drop_empty_meta(&mut obj);
    if std::ptr::eq(res, &resources::DAEMONSETS) {
        obj["metadata"]["annotations"][DS_TEMPLATE_GENERATION] = json!("1");
    }
    defaults::apply(res, &mut obj);
    if std::ptr::eq(res, &resources::PODS) {
        defaults::service_account_token(&mut obj, &random_suffix(5));
    }
    validate::validate(res, &obj, None)?;
    Ok(obj)
}

/// A spec change is a new generation, for the kinds that have one. A pod's
/// binding to a node (`spec.nodeName`, written by the scheduler through the
/// binding subresource) is not a spec update and leaves it as it is.
fn bump_generation(res: &'static ResourceDef, next: &mut Value, current: &Value) {
    if !res.has_generation() {
        return;
    }
    let changed = if std::ptr::eq(res, &resources::PODS) {
        let without_node = |v: &Value| {
            let mut spec = v["spec"].clone();
            if let Some(m) = spec.as_object_mut() {
                m.remove("nodeName");
            }
            spec
        };
        without_node(next) != without_node(current)
    } else if res.custom {
        // Any change but to metadata (and to status, when it has its own
        // subresource), as the custom resource strategy counts it.
        let content = |v: &Value| {
            let mut v = v.clone();
            if let Some(m) = v.as_object_mut() {
                m.remove("metadata");
                if res.has_subresource("status") {
                    m.remove("status");
                }
            }
            v
        };
        content(next) != content(current)
    } else {
        next["spec"] != current["spec"]
    };
    if changed {
        let g = current["metadata"]["generation"].as_i64().unwrap_or(1);
        next["metadata"]["generation"] = json!(g + 1);
    }
    if std::ptr::eq(res, &resources::DAEMONSETS) {
        let old = current["metadata"]["annotations"][DS_TEMPLATE_GENERATION]
            .as_str()
            .and_then(|g| g.parse::<i64>().ok())
            .unwrap_or(1);
        let now = if next["spec"]["template"] != current["spec"]["template"] {
            old + 1
        } else {
            old
        };
        next["metadata"]["annotations"][DS_TEMPLATE_GENERATION] = json!(now.to_string());
    }
}

/// A DaemonSet's template generation, which apps/v1 shows as an annotation
/// (the API server keeps it: 1 on create, one more per template change).
const DS_TEMPLATE_GENERATION: &str = "deprecated.daemonset.template.generation";

/// A terminating pod on a node stays until its kubelet reports it stopped.
fn is_pod_awaiting_kubelet(res: &'static ResourceDef, obj: &Value) -> bool {
    std::ptr::eq(res, &resources::PODS)
        && !obj["spec"]["nodeName"].as_str().unwrap_or("").is_empty()
        && obj["metadata"]["deletionGracePeriodSeconds"]
            .as_i64()
            .unwrap_or(0)
            > 0
}

/// Fields the server owns: clients can't change them through a write.
fn carry_system_fields(obj: &mut Value, current: &Value, res: &'static ResourceDef) {
    for f in [
        "uid",
        "creationTimestamp",
        "generation",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        let v = current["metadata"][f].clone();
        if v.is_null() {
            if let Some(m) = obj["metadata"].as_object_mut() {
                m.remove(f);
            }
        } else {
            obj["metadata"][f] = v;
        }
    }
    obj["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
    obj["apiVersion"] = json!(res.api_version());
    obj["kind"] = json!(res.kind);
    drop_empty_meta(obj);
}

/// Empty metadata lists and maps are left out, as the API server's JSON
/// omits them (a Job's pod whose tracking finalizer is removed has no
/// `finalizers` at all, not `[]`).
fn drop_empty_meta(obj: &mut Value) {
    if let Some(m) = obj["metadata"].as_object_mut() {
        for f in ["finalizers", "ownerReferences", "labels", "annotations"] {
            let empty = match m.get(f) {
                Some(Value::Array(a)) => a.is_empty(),
                Some(Value::Object(o)) => o.is_empty(),
                _ => false,
            };
            if empty {
                m.remove(f);
            }
        }
    }
}

fn namespace_problem(inner: &Inner, ns: &str, name: &str, res: &'static ResourceDef) -> ApiError {
    let exists = inner
        .tables
        .get(&table_key(&resources::NAMESPACES))
        .is_some_and(|t| t.contains_key(&(String::new(), ns.to_string())));
    if exists {
        ApiError::forbidden(format!(
            "{} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
            res.plural
        ))
    } else {
        ApiError::not_found(&resources::NAMESPACES, ns)
    }
}
