//! Subresources with their own shapes: `scale` (autoscaling/v1 Scale over a
//! workload's spec.replicas), `log` (text, optionally followed), `eviction`,
//! `binding` and the namespace's `finalize`. `status` is served by the
//! object verbs.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::objects::{check_identity, parse_body, patch_type, render_one};
use super::response;
use super::{Req, ResourcePath};
use crate::controllers::{Ctx, pdb};
use crate::error::{ApiError, ApiResult};
use crate::logs::{self, LogLine};
use crate::patch;
use crate::resources;
use crate::store::{Obj, meta_str, parse_time};
use kubedeck_kube::selector::LabelSelector;

fn names(t: &ResourcePath) -> (&str, &str) {
    (
        t.ns.as_deref().unwrap_or(""),
        t.name.as_deref().unwrap_or(""),
    )
}

fn success(code: u16) -> Response {
    response::json(
        code,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": code}),
    )
}

/// The autoscaling/v1 Scale of a workload.
fn scale_of(obj: &Value) -> Value {
    let selector = LabelSelector::from_object(&obj["spec"]["selector"])
        .map(|s| s.to_string())
        .unwrap_or_default();
    let meta = &obj["metadata"];
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": obj["spec"]["replicas"].as_i64().unwrap_or(1)},
        "status": {
            "replicas": obj["status"]["replicas"].as_i64().unwrap_or(0),
            "selector": selector,
        },
    })
}

pub(super) fn scale(req: &Req, t: &ResourcePath) -> ApiResult<Response> {
    let (ns, name) = names(t);
    let store = &req.ctx.store;
    let current = store
        .get(t.res, ns, name)
        .ok_or_else(|| ApiError::not_found(t.res, name))?;
    let scale_now = scale_of(&current);
    let wanted = match req.method.as_str() {
        "GET" | "HEAD" => return Ok(response::ok(&scale_now)),
        "PUT" => {
            let mut body = parse_body(req, t.res)?;
            let scale_target = ResourcePath {
                res: t.res,
                ns: t.ns.clone(),
                name: t.name.clone(),
                sub: None,
            };
            check_identity(&scale_target, &mut body, true)?;
            body
        }
        _ => patch::apply(t.res, &scale_now, patch_type(req, t.res)?, &req.body)?,
    };
    let sent_rv = meta_str(&wanted, "resourceVersion");
    if !sent_rv.is_empty() && sent_rv != meta_str(&current, "resourceVersion") {
        return Err(ApiError::stale(t.res, name));
    }
    let replicas = match &wanted["spec"]["replicas"] {
        Value::Null => 0,
        v => v
            .as_i64()
            .filter(|n| *n >= 0 && *n <= i64::from(i32::MAX))
            .ok_or_else(|| {
                ApiError::invalid(
                    &resources::DEPLOYMENTS,
                    name,
                    &[(
                        "spec.replicas".into(),
                        format!("Invalid value: {v}: must be greater than or equal to 0"),
                    )],
                )
            })?,
    };
    if req.query.dry_run()? {
        let mut s = scale_now;
        s["spec"]["replicas"] = json!(replicas);
        return Ok(response::ok(&s));
    }
    let updated = store
        .modify(t.res, ns, name, |o| o["spec"]["replicas"] = json!(replicas))?
        .ok_or_else(|| ApiError::not_found(t.res, name))?;
    Ok(response::ok(&scale_of(&updated)))
}

/// The eviction's whole logic (PDB check, then the delete) lives with the
/// disruption controller; it answers 201 with a Success status.
pub(super) fn eviction(req: &Req, t: &ResourcePath) -> ApiResult<Response> {
    let (ns, name) = names(t);
    let body = parse_body(req, t.res)?;
    let out = pdb::evict(&req.ctx, ns, name, &body)?;
    let code = out["code"]
        .as_u64()
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| (200..300).contains(c))
        .unwrap_or(201);
    Ok(response::json(code, &out))
}

pub(super) fn binding(req: &Req, t: &ResourcePath) -> ApiResult<Response> {
    let (ns, name) = names(t);
    let body = parse_body(req, t.res)?;
    let node = body["target"]["name"].as_str().unwrap_or("").to_string();
    if node.is_empty() {
        return Err(ApiError::invalid(
            &resources::PODS,
            name,
            &[("target.name".into(), "Required value".into())],
        ));
    }
    let store = &req.ctx.store;
    let pod = store
        .get(&resources::PODS, ns, name)
        .ok_or_else(|| ApiError::not_found(&resources::PODS, name))?;
    let assigned = |p: &Value| p["spec"]["nodeName"].as_str().unwrap_or("").to_string();
    let already = |on: &str| ApiError {
        details: Some(json!({"name": name, "kind": "pods/binding"})),
        ..ApiError::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on pods/binding \"{name}\": pod {name} is already assigned to node \"{on}\""
            ),
        )
    };
    if !assigned(&pod).is_empty() {
        return Err(already(&assigned(&pod)));
    }
    let now = crate::store::now_rfc3339();
    // A node that doesn't exist (yet) is bound to by name alone.
    let target = store
        .get(&resources::NODES, "", &node)
        .map_or_else(|| json!({"metadata": {"name": node}}), |n| (*n).clone());
    let stored = store
        .modify(&resources::PODS, ns, name, |p| {
            if assigned(p).is_empty() {
                crate::controllers::scheduler::bind(p, &target, &now);
            }
        })?
        .ok_or_else(|| ApiError::not_found(&resources::PODS, name))?;
    if assigned(&stored) != node {
        return Err(already(&assigned(&stored)));
    }
    Ok(success(201))
}

/// PUT `namespaces/{name}/finalize`: replaces spec.finalizers.
pub(super) fn finalize(req: &Req, t: &ResourcePath) -> ApiResult<Response> {
    let (_, name) = names(t);
    let mut body = parse_body(req, t.res)?;
    check_identity(t, &mut body, true)?;
    let finalizers = match &body["spec"]["finalizers"] {
        Value::Null => json!([]),
        v @ Value::Array(_) => v.clone(),
        _ => return Err(ApiError::bad_request("spec.finalizers must be a list")),
    };
    let stored = req
        .ctx
        .store
        .modify(&resources::NAMESPACES, "", name, |n| {
            n["spec"]["finalizers"] = finalizers
        })?
        .ok_or_else(|| ApiError::not_found(&resources::NAMESPACES, name))?;
    Ok(render_one(req, t.res, stored, 200))
}

/// Options of a log request.
struct LogOptions {
    container: String,
    follow: bool,
    previous: bool,
    timestamps: bool,
    tail: Option<usize>,
    since: Option<DateTime<Utc>>,
    limit_bytes: Option<usize>,
}

impl LogOptions {
    fn from_req(req: &Req, now: DateTime<Utc>) -> ApiResult<LogOptions> {
        let q = &req.query;
        let positive = |key: &str| -> ApiResult<Option<i64>> {
            match q.int(key)? {
                Some(n) if n < 0 => Err(ApiError::bad_request(format!(
                    "{key}: Invalid value: {n}: must be greater than or equal to 0"
                ))),
                other => Ok(other),
            }
        };
        let tail = positive("tailLines")?.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        let limit_bytes = match positive("limitBytes")? {
            Some(0) => {
                return Err(ApiError::bad_request(
                    "limitBytes: Invalid value: 0: must be greater than 0",
                ));
            }
            n => n.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        };
        let since_seconds = positive("sinceSeconds")?;
        let since_time = match q.value("sinceTime") {
            Some(s) => Some(parse_time(s).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "sinceTime: Invalid value: {s:?}: not an RFC 3339 time"
                ))
            })?),
            None => None,
        };
        if since_seconds.is_some() && since_time.is_some() {
            return Err(ApiError::bad_request(
                "at most one of `sinceTime` or `sinceSeconds` may be specified",
            ));
        }
        // A window reaching beyond chrono's range means "all".
        let since = since_time.or_else(|| {
            since_seconds
                .and_then(chrono::Duration::try_seconds)
                .and_then(|d| now.checked_sub_signed(d))
        });
        Ok(LogOptions {
            container: q.value("container").unwrap_or("").to_string(),
            follow: q.flag("follow")?,
            previous: q.flag("previous")?,
            timestamps: q.flag("timestamps")?,
            tail,
            since,
            limit_bytes,
        })
    }

    fn format(&self, l: &LogLine, out: &mut Vec<u8>) {
        if self.timestamps {
            out.extend_from_slice(
                l.time
                    .to_rfc3339_opts(SecondsFormat::Nanos, true)
                    .as_bytes(),
            );
            out.push(b' ');
        }
        out.extend_from_slice(l.text.as_bytes());
        out.push(b'\n');
    }
}

const TEXT: &str = "text/plain";

pub(super) async fn log(req: &Req, t: &ResourcePath) -> ApiResult<Response> {
    let (ns, name) = names(t);
    let now = Utc::now();
    let opts = LogOptions::from_req(req, now)?;
    let pod = req
        .ctx
        .store
        .get(&resources::PODS, ns, name)
        .ok_or_else(|| ApiError::not_found(&resources::PODS, name))?;
    let lines = logs::history(&req.ctx, &pod, &opts.container, opts.previous, now)?;
    let last_time = lines.last().map_or(now, |l| l.time);
    let mut selected: Vec<&LogLine> = lines
        .iter()
        .filter(|l| opts.since.is_none_or(|s| l.time >= s))
        .collect();
    if let Some(n) = opts.tail {
        let skip = selected.len().saturating_sub(n);
        selected.drain(..skip);
    }
    let mut out = Vec::new();
    for l in selected {
        opts.format(l, &mut out);
    }
    let mut budget = opts.limit_bytes.unwrap_or(usize::MAX);
    if out.len() >= budget || !opts.follow || opts.previous {
        out.truncate(budget);
        return Ok(response::bytes(200, TEXT, out));
    }
    budget -= out.len();
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(16);
    let ctx = req.ctx.clone();
    let first = Bytes::from(out);
    tokio::spawn(async move {
        if !first.is_empty() && tx.send(Ok(first)).await.is_err() {
            return;
        }
        follow(ctx, pod, opts, last_time, budget, tx).await;
    });
    let mut resp = Response::new(Body::from_stream(ReceiverStream::new(rx)));
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(TEXT));
    Ok(resp)
}

/// Streams a running container's new lines as it writes them, until it
/// stops, the pod goes away, the byte budget is spent or the client leaves.
/// Sleeps until the next line is due, waking early only when the pod changes.
async fn follow(
    ctx: Arc<Ctx>,
    mut pod: Obj,
    opts: LogOptions,
    mut last: DateTime<Utc>,
    mut budget: usize,
    tx: mpsc::Sender<Result<Bytes, Infallible>>,
) {
    let mut changes = ctx.store.subscribe();
    let (ns, name) = (
        meta_str(&pod, "namespace").to_string(),
        meta_str(&pod, "name").to_string(),
    );
    let uid = meta_str(&pod, "uid").to_string();
    loop {
        let Some(next) = logs::next_line_at(&ctx, &pod, &opts.container, last) else {
            return;
        };
        // Never spin: a line due now that history does not show yet is
        // looked for again shortly.
        let wait = (next - Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO)
            .max(Duration::from_millis(20));
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                _ = tx.closed() => return,
                _ = tokio::time::sleep_until(deadline) => break,
                msg = changes.recv() => match msg {
                    Ok(c) if std::ptr::eq(c.res, &resources::PODS)
                        && meta_str(&c.object, "name") == name
                        && meta_str(&c.object, "namespace") == ns => break,
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
            }
        }
        match ctx.store.get(&resources::PODS, &ns, &name) {
            Some(p) if meta_str(&p, "uid") == uid => pod = p,
            _ => return,
        }
        let Ok(lines) = logs::history(&ctx, &pod, &opts.container, false, Utc::now()) else {
            return;
        };
        let mut out = Vec::new();
        let seen = last;
        for l in lines.iter().filter(|l| l.time > seen) {
            opts.format(l, &mut out);
            last = l.time;
        }
        if out.is_empty() {
            continue;
        }
        let done = out.len() >= budget;
        out.truncate(budget);
        budget -= out.len();
        if tx.send(Ok(Bytes::from(out))).await.is_err() || done {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_reflects_the_workload_with_a_string_selector() {
        let deploy = json!({
            "metadata": {"name": "web", "namespace": "demo", "resourceVersion": "7", "uid": "u"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}},
            "status": {"replicas": 2},
        });
        let s = scale_of(&deploy);
        assert_eq!(s["kind"], "Scale");
        assert_eq!(s["apiVersion"], "autoscaling/v1");
        assert_eq!(s["spec"]["replicas"], 3);
        assert_eq!(s["status"]["replicas"], 2);
        assert_eq!(s["status"]["selector"], "app=web");
        assert_eq!(s["metadata"]["resourceVersion"], "7");
    }

    #[test]
    fn log_lines_get_rfc3339_nano_timestamps_when_asked() {
        let opts = LogOptions {
            container: String::new(),
            follow: false,
            previous: false,
            timestamps: true,
            tail: None,
            since: None,
            limit_bytes: None,
        };
        let line = LogLine {
            time: parse_time("2024-05-01T10:00:00Z").unwrap(),
            text: "hello".into(),
        };
        let mut out = Vec::new();
        opts.format(&line, &mut out);
        assert_eq!(out, b"2024-05-01T10:00:00.000000000Z hello\n");
    }
}
