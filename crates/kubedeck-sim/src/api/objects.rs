//! The object verbs: get, list, create, update (PUT, also of `/status`),
//! patch, delete and deletecollection, with dry runs, selectors, paging and
//! Table / PartialObjectMetadata output.

use axum::http::header;
use axum::response::Response;
use chrono::Utc;
use serde_json::{Value, json};

use super::query::{Continue, ListOptions, delete_options};
use super::resource_version::{ListAt, get_not_older_than, list_at};
use super::response::{self, Shape};
use super::{Req, ResourcePath, eventsv1, hpav1, protobuf};
use crate::error::{ApiError, ApiResult};
use crate::field_selector::FieldSelector;
use crate::patch::{self, PatchType};
use crate::resources::{self, ResourceDef};
use crate::store::{Obj, Stored, meta_str, obj_key, prepare_create};
use crate::table::{self, IncludeObject};
use kubedeck_kube::selector::LabelSelector;

fn is_events_v1(res: &'static ResourceDef) -> bool {
    std::ptr::eq(res, &resources::EVENTS_V1)
}

fn is_hpa_v1(res: &'static ResourceDef) -> bool {
    std::ptr::eq(res, &resources::HPAS_V1)
}

/// The stored kind behind a served kind.
pub(crate) fn storage(res: &'static ResourceDef) -> &'static ResourceDef {
    if is_events_v1(res) {
        &resources::EVENTS
    } else if is_hpa_v1(res) {
        &resources::HPAS
    } else {
        res
    }
}

/// A stored object as the served kind shows it. A custom kind's versions
/// differ only in apiVersion, as with a CRD's `None` conversion.
pub(crate) fn view(res: &'static ResourceDef, obj: &Obj) -> Obj {
    if res.custom && obj["apiVersion"].as_str() != Some(&res.api_version()) {
        let mut o = (**obj).clone();
        o["apiVersion"] = json!(res.api_version());
        Stored::new(o)
    } else if is_events_v1(res) {
        Stored::new(eventsv1::from_core(obj))
    } else if is_hpa_v1(res) {
        Stored::new(hpav1::from_v2(obj))
    } else {
        obj.clone()
    }
}

/// A client's object of the served kind, as stored.
pub(crate) fn unview(res: &'static ResourceDef, obj: Value) -> Value {
    if is_events_v1(res) {
        eventsv1::to_core(&obj)
    } else if is_hpa_v1(res) {
        hpav1::to_v2(&obj)
    } else {
        obj
    }
}

fn is_yaml(req: &Req) -> bool {
    req.header(header::CONTENT_TYPE)
        .is_some_and(|ct| ct.contains("yaml"))
}

/// Decodes a request body (JSON, or YAML when the content type says so)
/// into an object.
pub(crate) fn parse_body(req: &Req, res: &'static ResourceDef) -> ApiResult<Value> {
    let unrecognized = |why: String| {
        ApiError::bad_request(format!(
            "the object provided is unrecognized (must be of type {}): {why}",
            res.kind
        ))
    };
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Err(unrecognized("the request body is empty".into()));
    }
    let protobuf = req
        .header(header::CONTENT_TYPE)
        .is_some_and(|ct| ct.starts_with(protobuf::MEDIA_TYPE));
    let v: Value = if protobuf {
        protobuf::decode(&req.body).map_err(|r| match r {
            protobuf::Refusal::Malformed(why) => unrecognized(why),
            protobuf::Refusal::Unsupported(why) => ApiError::new(415, "UnsupportedMediaType", why),
        })?
    } else if is_yaml(req) {
        serde_norway::from_slice(&req.body)
            .map_err(|e| unrecognized(format!("yaml parse error: {e}")))?
    } else {
        serde_json::from_slice(&req.body).map_err(|e| {
            unrecognized(format!("couldn't get version/kind; json parse error: {e}"))
        })?
    };
    if !v.is_object() {
        return Err(unrecognized("the body is not a JSON object".into()));
    }
    Ok(v)
}

/// The kind and apiVersion a body declares must be those of the path.
fn check_type(
    res: &'static ResourceDef,
    obj: &Value,
    expect_kind: &str,
    expect_av: &str,
) -> ApiResult<()> {
    let av = obj["apiVersion"].as_str().unwrap_or("");
    if !av.is_empty() && av != expect_av {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({expect_av})"
        )));
    }
    let kind = obj["kind"].as_str().unwrap_or("");
    if !kind.is_empty() && kind != expect_kind {
        return Err(ApiError::bad_request(format!(
            "{kind} in version \"{}\" cannot be handled as a {}: the kind of the object does not match the kind of the request",
            if av.is_empty() { expect_av } else { av },
            res.kind
        )));
    }
    Ok(())
}

/// Reconciles the body's metadata with the path: the path namespace fills a
/// missing one and must equal a present one; on update the name must match.
pub(crate) fn check_identity(
    t: &ResourcePath,
    obj: &mut Value,
    name_required: bool,
) -> ApiResult<()> {
    if !obj["metadata"].is_object() {
        obj["metadata"] = json!({});
    }
    if t.res.namespaced
        && let Some(ns) = &t.ns
    {
        let body_ns = meta_str(obj, "namespace");
        if body_ns.is_empty() {
            obj["metadata"]["namespace"] = json!(ns);
        } else if body_ns != ns {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
    }
    if let Some(name) = &t.name {
        let body_name = meta_str(obj, "name");
        if body_name.is_empty() && !name_required {
            obj["metadata"]["name"] = json!(name);
        } else if body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
    }
    Ok(())
}

pub(crate) fn include_object(req: &Req) -> IncludeObject {
    IncludeObject::parse(req.query.value("includeObject").unwrap_or("Metadata"))
}

fn partial(version: &str, obj: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": format!("meta.k8s.io/{version}"),
        "metadata": obj["metadata"],
    })
}

/// A Table of stored objects. events.k8s.io events are printed from their
/// core form (same columns) and carry their events.k8s.io form as row
/// objects.
pub(crate) fn shaped_table(
    res: &'static ResourceDef,
    objs: &[Obj],
    include: IncludeObject,
    version: &str,
    meta: Value,
) -> Value {
    let mut t = if res.custom {
        let objs: Vec<Obj> = objs.iter().map(|o| view(res, o)).collect();
        table::table(res, &objs, include, meta, Utc::now())
    } else {
        table::table(storage(res), objs, include, meta, Utc::now())
    };
    t["apiVersion"] = json!(format!("meta.k8s.io/{version}"));
    if is_events_v1(res)
        && let Some(rows) = t["rows"].as_array_mut()
    {
        for row in rows {
            if row["object"]["kind"] == "Event" {
                row["object"] = eventsv1::from_core(&row["object"]);
            }
        }
    }
    t
}

/// One stored object in the shape the client asked for.
pub(crate) fn render_one(req: &Req, res: &'static ResourceDef, obj: Obj, code: u16) -> Response {
    match response::shape(req.header(header::ACCEPT)) {
        Shape::Plain => response::json(code, &view(res, &obj)),
        Shape::Metadata(v) => response::json(code, &partial(v, &obj)),
        Shape::Table(v) => {
            let meta = json!({"resourceVersion": obj["metadata"]["resourceVersion"]});
            response::json(
                code,
                &shaped_table(res, &[obj], include_object(req), v, meta),
            )
        }
    }
}

/// Stored objects as a list in the shape the client asked for; plain lists
/// are written item by item, without building one big JSON value.
pub(crate) fn render_list(
    req: &Req,
    res: &'static ResourceDef,
    objs: Vec<Obj>,
    meta: Value,
) -> Response {
    let (head, items): (Value, Vec<Value>) = match response::shape(req.header(header::ACCEPT)) {
        Shape::Table(v) => {
            return response::ok(&shaped_table(res, &objs, include_object(req), v, meta));
        }
        Shape::Metadata(v) => (
            json!({"kind": "PartialObjectMetadataList",
                   "apiVersion": format!("meta.k8s.io/{v}"), "metadata": meta}),
            objs.iter().map(|o| partial(v, o)).collect(),
        ),
        Shape::Plain if is_events_v1(res) => (
            json!({"kind": res.list_kind(), "apiVersion": res.api_version(), "metadata": meta}),
            objs.iter().map(|o| eventsv1::from_core(o)).collect(),
        ),
        Shape::Plain if res.custom => (
            json!({"kind": res.list_kind(), "apiVersion": res.api_version(), "metadata": meta}),
            objs.iter().map(|o| (*view(res, o)).clone()).collect(),
        ),
        Shape::Plain => (
            json!({"kind": res.list_kind(), "apiVersion": res.api_version(), "metadata": meta}),
            Vec::new(),
        ),
    };
    let mut buf = serde_json::to_vec(&head).unwrap_or_default();
    // Replace the head's closing brace with the items array.
    buf.pop();
    buf.extend_from_slice(b",\"items\":[");
    let mut item = |i: usize, json: &[u8]| {
        if i > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(json);
    };
    if items.is_empty() {
        for (i, o) in objs.iter().enumerate() {
            item(i, o.json());
        }
    } else {
        for (i, v) in items.iter().enumerate() {
            // Writing a Value into a Vec cannot fail.
            item(i, &serde_json::to_vec(v).unwrap_or_default());
        }
    }
    buf.extend_from_slice(b"]}");
    response::bytes(200, response::JSON, buf)
}

/// The label, field and namespace filter of a list or watch.
pub(crate) struct Filter {
    res: &'static ResourceDef,
    ns: Option<String>,
    label: Option<LabelSelector>,
    field: Option<FieldSelector>,
}

impl Filter {
    pub(crate) fn new(t: &ResourcePath, opts: &ListOptions) -> ApiResult<Filter> {
        let label = opts
            .label_selector
            .as_deref()
            .map(LabelSelector::parse)
            .transpose()
            .map_err(ApiError::bad_request)?
            .filter(|l| !l.is_empty());
        let field = opts
            .field_selector
            .as_deref()
            .map(|s| FieldSelector::parse(t.res, s))
            .transpose()?;
        Ok(Filter {
            res: t.res,
            ns: t.ns.clone(),
            label,
            field,
        })
    }

    /// Whether a stored object passes (label and field selectors only).
    pub(crate) fn selects(&self, obj: &Value) -> bool {
        if let Some(l) = &self.label
            && !l.matches(&obj["metadata"]["labels"])
        {
            return false;
        }
        match &self.field {
            None => true,
            Some(f) if is_events_v1(self.res) => f.matches(&eventsv1::from_core(obj)),
            Some(f) => f.matches(obj),
        }
    }

    /// As `selects`, and in the path's namespace.
    pub(crate) fn matches(&self, obj: &Value) -> bool {
        if let Some(ns) = &self.ns
            && meta_str(obj, "namespace") != ns
        {
            return false;
        }
        self.selects(obj)
    }
}

pub(crate) fn get(req: &Req, t: &ResourcePath) -> ApiResult<Response> {
    let (ns, name) = names(t);
    get_not_older_than(
        req.query.value("resourceVersion"),
        req.ctx.store.resource_version(),
    )?;
    let obj = req
        .ctx
        .store
        .get(storage(t.res), ns, name)
        .ok_or_else(|| ApiError::not_found(t.res, name))?;
    Ok(render_one(req, t.res, obj, 200))
}

fn names(t: &ResourcePath) -> (&str, &str) {
    (
        t.ns.as_deref().unwrap_or(""),
        t.name.as_deref().unwrap_or(""),
    )
}

pub(crate) fn list(req: &Req, t: &ResourcePath) -> ApiResult<Response> {
    let opts = ListOptions::from_query(&req.query)?;
    let filter = Filter::new(t, &opts)?;
    let limit = if opts.limit == 0 {
        usize::MAX
    } else {
        opts.limit
    };
    let after = opts.continue_from.as_ref().map(|c| &c.key);
    let store = &req.ctx.store;
    let select = |o: &Value| filter.selects(o);
    let (objs, more, rv) = match list_at(&opts, store.resource_version())? {
        ListAt::Current => store.list_page(storage(t.res), t.ns.as_deref(), after, limit, &select),
        ListAt::Exact(at) => {
            let (objs, more) =
                store.list_page_at(storage(t.res), t.ns.as_deref(), after, limit, &select, at)?;
            (objs, more, at)
        }
    };
    // Later pages report the first page's resourceVersion, so that a watch
    // started from it replays whatever changed while paging.
    let list_rv = opts.continue_from.as_ref().map_or(rv, |c| c.rv);
    let mut meta = json!({"resourceVersion": list_rv.to_string()});
    if more && let Some(last) = objs.last() {
        meta["continue"] = json!(
            Continue {
                rv: list_rv,
                key: obj_key(last),
            }
            .encode()
        );
    }
    Ok(render_list(req, t.res, objs, meta))
}

/// What the store would make of a create, without storing it.
fn dry_run_create(req: &Req, res: &'static ResourceDef, obj: Value) -> ApiResult<Value> {
    let obj = prepare_create(res, obj)?;
    let key = obj_key(&obj);
    if req.ctx.store.get(res, &key.0, &key.1).is_some() {
        return Err(ApiError::already_exists(res, &key.1));
    }
    Ok(obj)
}

pub(crate) fn create(req: &Req, t: &ResourcePath) -> ApiResult<Response> {
    let mut obj = parse_body(req, t.res)?;
    check_type(t.res, &obj, t.res.kind, &t.res.api_version())?;
    check_identity(t, &mut obj, false)?;
    create_object(req, t, obj)
}

fn create_object(req: &Req, t: &ResourcePath, obj: Value) -> ApiResult<Response> {
    let res = storage(t.res);
    let obj = unview(t.res, obj);
    let created = if req.query.dry_run()? {
        Stored::new(dry_run_create(req, res, obj)?)
    } else {
        req.ctx.store.create(res, obj)?
    };
    Ok(render_one(req, t.res, created, 201))
}

pub(crate) fn update(req: &Req, t: &ResourcePath) -> ApiResult<Response> {
    let mut obj = parse_body(req, t.res)?;
    check_type(t.res, &obj, t.res.kind, &t.res.api_version())?;
    check_identity(t, &mut obj, true)?;
    let status = t.sub.as_deref() == Some("status");
    let stored = write(req, t, unview(t.res, obj), status)?;
    Ok(render_one(req, t.res, stored, 200))
}

/// Stores an update of the main object or of its status, or (dry run)
/// checks it against the stored version.
fn write(req: &Req, t: &ResourcePath, obj: Value, status: bool) -> ApiResult<Obj> {
    let res = storage(t.res);
    let store = &req.ctx.store;
    if req.query.dry_run()? {
        return Ok(Stored::new(store.dry_run_update(res, obj, status)?));
    }
    if status {
        store.update_status(res, obj)
    } else {
        store.update(res, obj)
    }
}

/// The PATCH content types the server accepts, for the 415 message.
const PATCH_TYPES: &str = "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json";

/// Custom resources have no strategic merge patch (no Go types to carry
/// merge keys), so their server refuses it.
const CUSTOM_PATCH_TYPES: &str =
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";

pub(crate) fn patch_type(req: &Req, res: &ResourceDef) -> ApiResult<PatchType> {
    let ct = req.header(header::CONTENT_TYPE).unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    let accepted = if res.custom {
        CUSTOM_PATCH_TYPES
    } else {
        PATCH_TYPES
    };
    PatchType::from_content_type(mime)
        .filter(|k| !(res.custom && *k == PatchType::StrategicMerge))
        .ok_or_else(|| {
            ApiError::new(
                415,
                "UnsupportedMediaType",
                format!("the body of the request was in an unknown format - accepted media types include: {accepted}"),
            )
        })
}

pub(crate) fn patch(req: &Req, t: &ResourcePath) -> ApiResult<Response> {
    let kind = patch_type(req, t.res)?;
    let (ns, name) = names(t);
    let res = storage(t.res);
    let status = t.sub.as_deref() == Some("status");
    // A patch without a resourceVersion of its own is retried on conflict,
    // as the real server does.
    for _ in 0..5 {
        let Some(current) = req.ctx.store.get(res, ns, name) else {
            if kind == PatchType::Apply && !status {
                return apply_create(req, t);
            }
            return Err(ApiError::not_found(t.res, name));
        };
        let shown = view(t.res, &current);
        let mut patched = patch::apply(t.res, &shown, kind, &req.body)?;
        if !patched.is_object() {
            return Err(ApiError::bad_request("the patch did not produce an object"));
        }
        check_identity(t, &mut patched, true)?;
        let pinned = patched["metadata"]["resourceVersion"] != shown["metadata"]["resourceVersion"];
        match write(req, t, unview(t.res, patched), status) {
            Ok(stored) => return Ok(render_one(req, t.res, stored, 200)),
            Err(e) if e.code == 409 && e.reason == "Conflict" && !pinned => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::conflict(
        t.res,
        name,
        "the object has been modified; please apply your changes to the latest version and try again",
    ))
}

/// Server-side apply of an object that does not exist yet creates it.
fn apply_create(req: &Req, t: &ResourcePath) -> ApiResult<Response> {
    let v: Value = serde_norway::from_slice(&req.body)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
    if !v.is_object() {
        return Err(ApiError::bad_request("the apply patch is not an object"));
    }
    let mut obj = v;
    check_type(t.res, &obj, t.res.kind, &t.res.api_version())?;
    if obj["apiVersion"].is_null() || obj["kind"].is_null() {
        return Err(ApiError::bad_request(
            "invalid object type: apiVersion and kind are required for apply",
        ));
    }
    check_identity(t, &mut obj, true)?;
    create_object(req, t, obj)
}

pub(crate) fn delete(req: &Req, t: &ResourcePath) -> ApiResult<Response> {
    let (ns, name) = names(t);
    let res = storage(t.res);
    let body: Value = if req.body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&req.body)
            .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?
    };
    let opts = delete_options(&req.query, &body)?;
    let store = &req.ctx.store;
    if delete_dry_run(req, &body)? {
        let current = store
            .get(res, ns, name)
            .ok_or_else(|| ApiError::not_found(t.res, name))?;
        return Ok(render_one(req, t.res, current, 200));
    }
    if std::ptr::eq(res, &resources::NAMESPACES) {
        hold_namespace(req, name)?;
    }
    let out = store.delete(res, ns, name, &opts)?;
    // An object the delete only marked (finalizers to run) comes back as
    // it was marked, as kube-apiserver answers, even if a controller has
    // finished it since (reading the store again raced the garbage
    // collector); pods come back even when gone (the pod registry returns
    // deleted objects); others get a Success status.
    let marked = out["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| !f.is_empty());
    // A namespace's finalizers are in its spec: it is still there, Terminating.
    let still_there = store
        .get(res, ns, name)
        .is_some_and(|o| meta_str(&o, "uid") == meta_str(&out, "uid"));
    if marked || still_there || std::ptr::eq(res, &resources::PODS) {
        return Ok(render_one(req, t.res, out, 200));
    }
    let mut details = json!({"name": name, "kind": t.res.plural, "uid": meta_str(&out, "uid")});
    if !t.res.group.is_empty() {
        details["group"] = json!(t.res.group);
    }
    Ok(response::ok(&json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })))
}

/// Deletes carry dryRun in the query or, as kubectl sends it, in the
/// DeleteOptions body.
fn delete_dry_run(req: &Req, body: &Value) -> ApiResult<bool> {
    let in_body = match &body["dryRun"] {
        Value::Null => false,
        Value::Array(a) if a.is_empty() => false,
        Value::Array(a) if a.len() == 1 && a[0] == "All" => true,
        other => {
            return Err(ApiError::bad_request(format!(
                "Invalid dryRun value: {other}: supported values: \"All\""
            )));
        }
    };
    Ok(in_body || req.query.dry_run()?)
}

/// A namespace whose spec lists the `kubernetes` finalizer is only marked
/// by DELETE and turns Terminating while the namespace controller empties
/// it, as on a real cluster. The store holds objects by metadata
/// finalizers, so the spec finalizer is mirrored there; the controller
/// drops both when the namespace is empty.
fn hold_namespace(req: &Req, name: &str) -> ApiResult<()> {
    let store = &req.ctx.store;
    let Some(ns) = store.get(&resources::NAMESPACES, "", name) else {
        return Ok(());
    };
    let finalized = |list: &Value| {
        list.as_array()
            .is_some_and(|a| a.iter().any(|f| f == "kubernetes"))
    };
    if !finalized(&ns["spec"]["finalizers"]) || finalized(&ns["metadata"]["finalizers"]) {
        return Ok(());
    }
    store.modify(&resources::NAMESPACES, "", name, |n| {
        let list = &mut n["metadata"]["finalizers"];
        if !list.is_array() {
            *list = json!([]);
        }
        if let Some(a) = list.as_array_mut() {
            a.push(json!("kubernetes"));
        }
    })?;
    Ok(())
}

pub(crate) fn delete_collection(req: &Req, t: &ResourcePath) -> ApiResult<Response> {
    let opts = ListOptions::from_query(&req.query)?;
    let filter = Filter::new(t, &opts)?;
    let body: Value = if req.body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&req.body)
            .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?
    };
    let del = delete_options(&req.query, &body)?;
    let res = storage(t.res);
    let store = &req.ctx.store;
    let (objs, _, _) = store.list_page(res, t.ns.as_deref(), None, usize::MAX, &|o| {
        filter.selects(o)
    });
    let dry = delete_dry_run(req, &body)?;
    let mut deleted = Vec::with_capacity(objs.len());
    for o in objs {
        let (ns, name) = obj_key(&o);
        if dry {
            deleted.push(o);
            continue;
        }
        match store.delete(res, &ns, &name, &del) {
            Ok(out) => deleted.push(out),
            // Gone meanwhile: nothing left to delete.
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    let rv = store.resource_version();
    Ok(render_list(
        req,
        t.res,
        deleted,
        json!({"resourceVersion": rv.to_string()}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(ns: Option<&str>, name: Option<&str>) -> ResourcePath {
        ResourcePath {
            res: &resources::PODS,
            ns: ns.map(str::to_string),
            name: name.map(str::to_string),
            sub: None,
        }
    }

    #[test]
    fn path_namespace_fills_the_body_and_a_different_one_is_refused() {
        let t = target(Some("demo"), None);
        let mut obj = json!({"metadata": {"name": "a"}});
        check_identity(&t, &mut obj, false).unwrap();
        assert_eq!(obj["metadata"]["namespace"], "demo");
        let mut other = json!({"metadata": {"name": "a", "namespace": "prod"}});
        let e = check_identity(&t, &mut other, false).unwrap_err();
        assert_eq!(e.code, 400);
        assert!(
            e.message
                .contains("does not match the namespace sent on the request")
        );
    }

    #[test]
    fn put_name_must_match_the_url() {
        let t = target(Some("demo"), Some("a"));
        let mut obj = json!({"metadata": {"name": "b"}});
        let e = check_identity(&t, &mut obj, true).unwrap_err();
        assert_eq!(e.code, 400);
        assert_eq!(
            e.message,
            "the name of the object (b) does not match the name on the URL (a)"
        );
        let mut missing = json!({});
        assert_eq!(
            check_identity(&t, &mut missing, true).unwrap_err().code,
            400
        );
    }

    #[test]
    fn body_type_must_match_the_path() {
        let res = &resources::DEPLOYMENTS;
        assert!(
            check_type(
                res,
                &json!({"apiVersion": "apps/v1", "kind": "Deployment"}),
                "Deployment",
                "apps/v1"
            )
            .is_ok()
        );
        assert!(check_type(res, &json!({}), "Deployment", "apps/v1").is_ok());
        let e = check_type(
            res,
            &json!({"apiVersion": "v1", "kind": "Deployment"}),
            "Deployment",
            "apps/v1",
        )
        .unwrap_err();
        assert_eq!(e.code, 400);
        let e = check_type(res, &json!({"kind": "Service"}), "Deployment", "apps/v1").unwrap_err();
        assert_eq!(e.code, 400);
    }
}
