//! Watches: a chunked stream of JSON lines `{"type":..., "object":...}`,
//! as the real API server sends them. A watch stays open until its
//! timeout (default a random 30–60 minutes, like the real server's
//! min-request-timeout) or until the client goes away; a resourceVersion
//! older than the store's window, or a receiver that falls behind, ends it
//! with an ERROR event carrying a 410 Status, after which clients re-list.
//! One from the future waits silently for the store to pass it, as on
//! kube-apiserver (see `resource_version`).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use rand::Rng;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_stream::wrappers::ReceiverStream;

use super::objects::{Filter, include_object, shaped_table, storage, view};
use super::query::ListOptions;
use super::resource_version::{too_large, watch_since};
use super::response::{JSON, Shape};
use super::{Req, ResourcePath};
use crate::error::{ApiError, ApiResult};
use crate::resources::ResourceDef;
use crate::store::{Change, ChangeType, Obj};
use crate::table::IncludeObject;

/// How often a watch that allows bookmarks gets one.
const BOOKMARK_EVERY: Duration = Duration::from_secs(5);

/// Longer timeouts are cut to this, so that deadlines stay representable.
const MAX_TIMEOUT_SECONDS: u64 = 7 * 24 * 3600;

type Tx = mpsc::Sender<Result<Bytes, Infallible>>;

/// What each event's object looks like.
struct Render {
    res: &'static ResourceDef,
    shape: Shape,
    include: IncludeObject,
}

impl Render {
    fn object(&self, obj: &Obj) -> Value {
        match self.shape {
            Shape::Plain => (*view(self.res, obj)).clone(),
            Shape::Metadata(v) => json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": format!("meta.k8s.io/{v}"),
                "metadata": obj["metadata"],
            }),
            Shape::Table(v) => {
                let meta = json!({"resourceVersion": obj["metadata"]["resourceVersion"]});
                shaped_table(self.res, std::slice::from_ref(obj), self.include, v, meta)
            }
        }
    }
}

fn line(kind: &str, object: &Value) -> Bytes {
    let mut buf = Vec::with_capacity(256);
    buf.extend_from_slice(b"{\"type\":\"");
    buf.extend_from_slice(kind.as_bytes());
    buf.extend_from_slice(b"\",\"object\":");
    // Writing a Value into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut buf, object);
    buf.extend_from_slice(b"}\n");
    Bytes::from(buf)
}

fn error_line(e: &ApiError) -> Bytes {
    line("ERROR", &e.status())
}

fn bookmark(res: &'static ResourceDef, rv: u64, initial_end: bool) -> Bytes {
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    line(
        "BOOKMARK",
        &json!({"kind": res.kind, "apiVersion": res.api_version(), "metadata": meta}),
    )
}

/// The event a change means for this watch, if any: an object that stops
/// matching the selectors is DELETED for it, one that starts is ADDED.
fn event_for<'c>(
    res: &'static ResourceDef,
    filter: &Filter,
    c: &'c Change,
) -> Option<(&'static str, &'c Obj)> {
    if !c.res.same_table(storage(res)) {
        return None;
    }
    let now = filter.matches(&c.object);
    match c.kind {
        ChangeType::Added => now.then_some(("ADDED", &c.object)),
        ChangeType::Deleted => now.then_some(("DELETED", &c.object)),
        ChangeType::Modified => {
            let before = c.old.as_ref().is_some_and(|o| filter.matches(o));
            match (before, now) {
                (true, true) => Some(("MODIFIED", &c.object)),
                (false, true) => Some(("ADDED", &c.object)),
                (true, false) => Some(("DELETED", &c.object)),
                (false, false) => None,
            }
        }
    }
}

pub(super) fn serve(req: &Req, t: &ResourcePath) -> ApiResult<Response> {
    let opts = ListOptions::from_query(&req.query)?;
    let filter = Filter::new(t, &opts)?;
    let since = watch_since(&opts)?;
    let render = Render {
        res: t.res,
        shape: super::response::shape(req.header(header::ACCEPT)),
        include: include_object(req),
    };
    let timeout = match opts.timeout_seconds {
        Some(s) => Duration::from_secs(s.min(MAX_TIMEOUT_SECONDS)),
        None => Duration::from_secs(rand::rng().random_range(1800..=3600)),
    };
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(64);
    // A streaming list starts from the current state whatever version it
    // names, but refuses one from the future with the list's 504.
    let streaming = opts.send_initial_events == Some(true);
    let store = &req.ctx.store;
    let current = store.resource_version();
    let (start, floor) = match since {
        Some(rv) if streaming && rv > current => (Err(too_large(rv, current)), 0),
        _ if streaming => (store.watch(storage(t.res), None), 0),
        _ => (store.watch(storage(t.res), since), since.unwrap_or(0)),
    };
    let ctx = req.ctx.clone();
    let res = t.res;
    tokio::spawn(async move {
        let start = match start {
            Ok(s) => s,
            Err(e) => {
                // Too old or too new: the real server answers 200 and sends
                // the 410 or 504 as an event, which makes watchers re-list.
                let _ = tx.send(Ok(error_line(&e))).await;
                return;
            }
        };
        let mut last_rv = start.rv;
        for c in &start.initial {
            if let Some((kind, obj)) = event_for(res, &filter, c)
                && tx.send(Ok(line(kind, &render.object(obj)))).await.is_err()
            {
                return;
            }
        }
        if streaming && opts.allow_bookmarks {
            let _ = tx.send(Ok(bookmark(res, last_rv, true))).await;
        }
        run(
            ctx.store.clone(),
            res,
            filter,
            render,
            start.rx,
            tx,
            &mut last_rv,
            floor,
            opts.allow_bookmarks,
            timeout,
        )
        .await;
    });
    let mut resp = Response::new(Body::from_stream(ReceiverStream::new(rx)));
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    Ok(resp)
}

#[allow(clippy::too_many_arguments)]
async fn run(
    store: Arc<crate::store::Store>,
    res: &'static ResourceDef,
    filter: Filter,
    render: Render,
    mut rx: tokio::sync::broadcast::Receiver<Arc<Change>>,
    tx: Tx,
    last_rv: &mut u64,
    // Nothing up to this version is sent: a watch from the future waits.
    floor: u64,
    bookmarks: bool,
    timeout: Duration,
) {
    let deadline = Instant::now() + timeout;
    let mut ticker = tokio::time::interval_at(Instant::now() + BOOKMARK_EVERY, BOOKMARK_EVERY);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        let out = tokio::select! {
            _ = tx.closed() => return,
            _ = tokio::time::sleep_until(deadline) => return,
            _ = ticker.tick(), if bookmarks => {
                // Every change up to the store's version has been sent to the
                // feed before the version is readable; if the feed is empty
                // now, this watch has seen them all.
                let rv = store.resource_version();
                if rx.is_empty() {
                    *last_rv = rv.max(*last_rv);
                }
                (*last_rv >= floor).then(|| bookmark(res, *last_rv, false))
            }
            msg = rx.recv() => match msg {
                Ok(c) if c.rv <= floor => None,
                Ok(c) => {
                    *last_rv = c.rv.max(*last_rv);
                    event_for(res, &filter, &c).map(|(kind, obj)| line(kind, &render.object(obj)))
                }
                Err(RecvError::Lagged(_)) => {
                    let e = ApiError::gone(format!(
                        "too old resource version: {} ({})",
                        *last_rv,
                        store.resource_version()
                    ));
                    let _ = tx.send(Ok(error_line(&e))).await;
                    return;
                }
                Err(RecvError::Closed) => return,
            },
        };
        if let Some(bytes) = out
            && tx.send(Ok(bytes)).await.is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::query::Query;
    use crate::resources;

    fn change(kind: ChangeType, old_ns: Option<&str>, ns: &str) -> Change {
        let pod = |ns: &str| {
            crate::store::Stored::new(json!({"metadata": {"name": "p", "namespace": ns}}))
        };
        Change {
            rv: 5,
            res: &resources::PODS,
            kind,
            object: pod(ns),
            old: old_ns.map(pod),
        }
    }

    fn demo_filter() -> Filter {
        let t = ResourcePath {
            res: &resources::PODS,
            ns: Some("demo".into()),
            name: None,
            sub: None,
        };
        Filter::new(&t, &ListOptions::from_query(&Query::default()).unwrap()).unwrap()
    }

    #[test]
    fn objects_entering_and_leaving_the_selection_are_added_and_deleted() {
        let f = demo_filter();
        let res = &resources::PODS;
        let kind = |c: &Change| event_for(res, &f, c).map(|(k, _)| k);
        assert_eq!(
            kind(&change(ChangeType::Added, None, "demo")),
            Some("ADDED")
        );
        assert_eq!(kind(&change(ChangeType::Added, None, "other")), None);
        assert_eq!(
            kind(&change(ChangeType::Modified, Some("demo"), "demo")),
            Some("MODIFIED")
        );
        assert_eq!(
            kind(&change(ChangeType::Modified, Some("other"), "demo")),
            Some("ADDED")
        );
        assert_eq!(
            kind(&change(ChangeType::Modified, Some("demo"), "other")),
            Some("DELETED")
        );
        assert_eq!(
            kind(&change(ChangeType::Deleted, Some("demo"), "demo")),
            Some("DELETED")
        );
        let other_kind = Change {
            res: &resources::SERVICES,
            ..change(ChangeType::Added, None, "demo")
        };
        assert_eq!(kind(&other_kind), None);
    }

    #[test]
    fn event_lines_and_bookmarks_have_the_wire_shape() {
        let l = line("ADDED", &json!({"a": 1}));
        assert_eq!(&l[..], b"{\"type\":\"ADDED\",\"object\":{\"a\":1}}\n");
        let b: Value = serde_json::from_slice(&bookmark(&resources::PODS, 42, true)).unwrap();
        assert_eq!(b["type"], "BOOKMARK");
        assert_eq!(b["object"]["kind"], "Pod");
        assert_eq!(b["object"]["metadata"]["resourceVersion"], "42");
        assert_eq!(
            b["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
            "true"
        );
        let e: Value = serde_json::from_slice(&error_line(&ApiError::gone("too old"))).unwrap();
        assert_eq!(e["type"], "ERROR");
        assert_eq!(e["object"]["code"], 410);
    }
}
