//! The simulated cluster's HTTP API: the real Kubernetes REST paths, verbs,
//! content negotiation and error statuses, over the shared store.
//!
//! One fallback handler parses every path itself, so that unknown paths and
//! wrong methods get a metav1.Status (404/405) as on a real API server, and
//! so that a panic anywhere in a handler becomes a 500 instead of a dropped
//! connection.

mod auth;
mod discovery;
mod eventsv1;
mod exec;
mod hpav1;
mod metrics;
pub(crate) mod objects;
mod openapi;
mod portforward;
mod protobuf;
mod protobuf_workloads;
mod query;
mod rbac;
mod resource_version;
mod response;
mod subresources;
mod watch;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::Response;
use futures::FutureExt as _;

use super::controllers::Ctx;
use super::crd::Registry;
use super::error::{ApiError, ApiResult};
use super::resources::{self, ResourceDef};
use auth::{Attrs, User};
use query::Query;

/// Bodies larger than this are refused, as the real server's 3 MiB object
/// limit (with room for YAML) would.
const MAX_BODY: usize = 16 * 1024 * 1024;

pub(crate) fn router(ctx: Arc<Ctx>) -> axum::Router {
    axum::Router::new().fallback(entry).with_state(ctx)
}

async fn entry(State(ctx): State<Arc<Ctx>>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    match AssertUnwindSafe(handle(ctx, req)).catch_unwind().await {
        Ok(resp) => resp,
        Err(_) => {
            tracing::error!(%method, %path, "API handler panicked");
            response::error(&ApiError::internal(
                "an error on the server has prevented the request from succeeding",
            ))
        }
    }
}

/// A resource request, after authentication and path parsing.
pub(crate) struct Req {
    pub(crate) ctx: Arc<Ctx>,
    pub(crate) method: Method,
    pub(crate) query: Query,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) user: User,
}

impl Req {
    pub(crate) fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What a resource path names.
#[derive(Debug, Clone)]
pub(crate) struct ResourcePath {
    /// The kind as served (events.k8s.io events are a view of core events).
    pub(crate) res: &'static ResourceDef,
    /// The namespace from the path; None for cluster-scoped kinds and for
    /// lists across all namespaces.
    pub(crate) ns: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) sub: Option<String>,
}

async fn handle(ctx: Arc<Ctx>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    // A refused impersonation is answered once the request is known: the
    // 403 names what was asked.
    let mut denied = None;
    let user = match auth::authenticate(&ctx.config.auth, &parts.headers) {
        Ok(Some(u)) => match auth::impersonate(&ctx.store, u, &parts.headers) {
            Ok(u) => Some(u),
            Err(d) => {
                denied = Some(d);
                None
            }
        },
        Ok(None) if auth::is_public(&path) => None,
        Ok(None) => return response::error(&ApiError::unauthorized()),
        Err(e) => return response::error(&e),
    };
    let owned: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            urlencoding::decode(s)
                .map(|c| c.into_owned())
                .unwrap_or_else(|_| s.to_string())
        })
        .collect();
    let segs: Vec<&str> = owned.iter().map(String::as_str).collect();

    let (group, version, rest): (&str, &str, &[&str]) = match segs.as_slice() {
        ["api", version, rest @ ..] => ("", version, rest),
        ["apis", group, version, rest @ ..] => (group, version, rest),
        _ => {
            if let Some(d) = &denied {
                return response::error(&d.on_path(&verb_of(&parts.method), &path));
            }
            let host = parts
                .headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("127.0.0.1");
            let accept = parts
                .headers
                .get(header::ACCEPT)
                .and_then(|h| h.to_str().ok());
            if matches!(segs.as_slice(), ["api"] | ["apis"])
                && parts.method == Method::GET
                && discovery::wants_aggregated(accept)
            {
                let doc = discovery::aggregated(ctx.store.registry(), segs == ["api"]);
                return response::bytes(
                    200,
                    discovery::AGGREGATED,
                    serde_json::to_vec(&doc).unwrap_or_default(),
                );
            }
            return non_resource(&ctx, user.as_ref(), &parts.method, &segs, host);
        }
    };
    if let Some(d) = &denied
        && (rest.is_empty() || (group == "authentication.k8s.io" && rest == ["selfsubjectreviews"]))
    {
        return response::error(&d.on_path(&verb_of(&parts.method), &path));
    }
    let Some(user) = user else {
        if let Some(d) = &denied {
            return resource_denied(
                ctx.store.registry(),
                d,
                (group, version, rest),
                &parts.method,
                parts.uri.query(),
            );
        }
        return response::error(&ApiError::unauthorized());
    };
    if rest.is_empty() {
        return non_resource(&ctx, Some(&user), &parts.method, &segs, "");
    }
    if group == "authentication.k8s.io" && rest == ["selfsubjectreviews"] {
        // `kubectl auth whoami` posts here without consulting discovery.
        return match (version, &parts.method) {
            ("v1" | "v1beta1", &Method::POST) => {
                response::json(201, &auth::who_am_i(&user, version))
            }
            ("v1" | "v1beta1", _) => response::error(&not_allowed()),
            _ => response::error(&ApiError::no_route()),
        };
    }
    let query = Query::parse(parts.uri.query());
    let target = match parse_target(ctx.store.registry(), group, version, rest) {
        Ok(t) => t,
        Err(e) => return response::error(&e),
    };
    let watch = match query.flag("watch") {
        Ok(w) => w,
        Err(e) => return response::error(&e),
    };
    let verb = match verb_for(&parts.method, &target, watch) {
        Ok(v) => v,
        Err(e) => return response::error(&e),
    };
    let attrs = attrs_of(&target, verb);
    if !auth::allowed(&ctx.store, &user, &attrs) {
        return response::error(&auth::forbidden(&user, &attrs));
    }
    if target.sub.as_deref() == Some("portforward") {
        return portforward::serve(&ctx, &target, parts, &query);
    }
    if target.sub.as_deref() == Some("exec") {
        // Reads its repeated `command` parameters from the URI itself.
        return exec::serve(&ctx, &target, parts);
    }
    let body = if matches!(parts.method, Method::GET | Method::HEAD) {
        Bytes::new()
    } else {
        match axum::body::to_bytes(body, MAX_BODY).await {
            Ok(b) => b,
            Err(_) => {
                return response::error(&ApiError::new(
                    413,
                    "RequestEntityTooLarge",
                    "the request body is too large or could not be read",
                ));
            }
        }
    };
    let req = Req {
        ctx,
        method: parts.method,
        query,
        headers: parts.headers,
        body,
        user,
    };
    match dispatch(&req, &target, verb).await {
        Ok(resp) => resp,
        Err(e) => response::error(&e),
    }
}

fn attrs_of(target: &ResourcePath, verb: &str) -> Attrs {
    Attrs {
        verb: verb.to_string(),
        group: target.res.group.to_string(),
        resource: target.res.plural.to_string(),
        subresource: target.sub.clone().unwrap_or_default(),
        namespace: target.ns.clone().unwrap_or_default(),
        name: target.name.clone().unwrap_or_default(),
    }
}

/// Discovery, OpenAPI, version, health and /metrics: everything outside
/// the resource paths. Readable by anyone authenticated; the version and
/// health paths also without credentials.
fn non_resource(
    ctx: &Ctx,
    user: Option<&User>,
    method: &Method,
    segs: &[&str],
    host: &str,
) -> Response {
    if !matches!(*method, Method::GET | Method::HEAD) {
        let allowed = user.is_some_and(|u| auth::allowed_non_resource(u, "post"));
        if !allowed {
            let name = user.map_or("system:anonymous", |u| u.name.as_str());
            return response::error(&ApiError::forbidden(format!(
                "forbidden: User \"{name}\" cannot {} path \"/{}\"",
                method.as_str().to_ascii_lowercase(),
                segs.join("/")
            )));
        }
        return response::error(&ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        ));
    }
    let reg = ctx.store.registry();
    let doc = match segs {
        ["version"] => Some(discovery::version()),
        ["healthz" | "livez" | "readyz", ..] => return response::text(200, "ok"),
        // The simulated cluster's Prometheus exposition, for scrapers.
        ["metrics"] => {
            let text = crate::metrics::exposition(ctx, chrono::Utc::now());
            return response::bytes(200, crate::metrics::CONTENT_TYPE, text.into_bytes());
        }
        ["api"] => Some(discovery::api_versions(host)),
        ["apis"] => Some(discovery::api_group_list(reg)),
        ["apis", group] => discovery::api_group(reg, group),
        ["api", version] => discovery::resource_list(reg, "", version),
        ["apis", group, version] => discovery::resource_list(reg, group, version),
        ["openapi", "v3"] => Some(openapi::root(reg)),
        ["openapi", "v3", rest @ ..] => openapi::group_version(reg, &rest.join("/")),
        _ => None,
    };
    match doc {
        Some(d) => response::ok(&d),
        None => response::error(&ApiError::no_route()),
    }
}

fn parse_target(
    reg: &Registry,
    group: &str,
    version: &str,
    rest: &[&str],
) -> ApiResult<ResourcePath> {
    // `namespaces/{name}/status` and `/finalize` are the namespace's own
    // subresources; any other `namespaces/{ns}/{plural}...` is scoped.
    let (ns, tail) = match rest {
        ["namespaces", ns, plural, ..]
            if !group.is_empty() || !matches!(*plural, "status" | "finalize") =>
        {
            (Some(ns.to_string()), &rest[2..])
        }
        _ => (None, rest),
    };
    let (plural, name, sub) = match tail {
        [plural] => (*plural, None, None),
        [plural, name] => (*plural, Some(name.to_string()), None),
        [plural, name, sub] => (*plural, Some(name.to_string()), Some(sub.to_string())),
        _ => return Err(ApiError::no_route()),
    };
    let res = reg
        .lookup(group, version, plural)
        .ok_or_else(ApiError::no_route)?;
    if ns.is_some() && !res.namespaced {
        return Err(ApiError::no_route());
    }
    if let Some(s) = &sub
        && !res.has_subresource(s)
    {
        return Err(ApiError::no_route());
    }
    Ok(ResourcePath { res, ns, name, sub })
}

/// The lower-case verb of a request outside the resources.
fn verb_of(method: &Method) -> String {
    method.as_str().to_ascii_lowercase()
}

/// The 403 of a refused impersonation on a resource request.
fn resource_denied(
    reg: &Registry,
    d: &auth::Denied,
    (group, version, rest): (&str, &str, &[&str]),
    method: &Method,
    query: Option<&str>,
) -> Response {
    let watch = Query::parse(query).flag("watch").unwrap_or(false);
    let attrs = parse_target(reg, group, version, rest)
        .ok()
        .and_then(|t| verb_for(method, &t, watch).ok().map(|v| attrs_of(&t, v)));
    match attrs {
        Some(a) => response::error(&d.on(&a)),
        None => response::error(&ApiError::forbidden("forbidden")),
    }
}

fn not_allowed() -> ApiError {
    ApiError::method_not_allowed("the server does not allow this method on the requested resource")
}

/// The RBAC verb of a request, or 405 when the kind does not serve it.
fn verb_for(method: &Method, t: &ResourcePath, watch: bool) -> ApiResult<&'static str> {
    let verb = match (method, &t.name, t.sub.as_deref()) {
        // A WebSocket upgrade is a GET, authorized as kube-apiserver does
        // since 1.30: `create` on pods/portforward.
        (&Method::GET | &Method::POST, Some(_), Some("portforward" | "exec")) => "create",
        (&Method::GET | &Method::HEAD, None, _) => {
            if watch {
                "watch"
            } else {
                "list"
            }
        }
        (&Method::GET | &Method::HEAD, Some(_), _) => "get",
        (&Method::POST, None, _) => "create",
        (&Method::POST, Some(_), Some("eviction" | "binding")) => "create",
        (&Method::PUT, Some(_), _) => "update",
        (&Method::PATCH, Some(_), _) => "patch",
        (&Method::DELETE, Some(_), None) => "delete",
        (&Method::DELETE, None, _) => "deletecollection",
        _ => return Err(not_allowed()),
    };
    let served = match t.sub.as_deref() {
        None => t.res.verbs.contains(&verb),
        Some("status" | "scale") => matches!(verb, "get" | "update" | "patch"),
        Some("log") => verb == "get",
        Some("eviction" | "binding") => verb == "create",
        Some("finalize") => verb == "update",
        Some("portforward" | "exec") => verb == "create",
        Some(_) => false,
    };
    // A namespaced kind can only be created or named inside a namespace.
    let needs_ns = t.res.namespaced
        && t.ns.is_none()
        && !matches!(verb, "list" | "watch" | "deletecollection");
    if !served || needs_ns {
        return Err(not_allowed());
    }
    Ok(verb)
}

async fn dispatch(req: &Req, t: &ResourcePath, verb: &str) -> ApiResult<Response> {
    let res = t.res;
    if std::ptr::eq(res, &resources::SELF_SUBJECT_ACCESS_REVIEWS) {
        let body = objects::parse_body(req, res)?;
        return Ok(response::json(
            201,
            &auth::access_review(&req.ctx.store, &req.user, body)?,
        ));
    }
    if std::ptr::eq(res, &resources::SELF_SUBJECT_RULES_REVIEWS) {
        let body = objects::parse_body(req, res)?;
        return Ok(response::json(
            201,
            &auth::rules_review(&req.ctx.store, &req.user, body),
        ));
    }
    if std::ptr::eq(res, &resources::POD_METRICS) || std::ptr::eq(res, &resources::NODE_METRICS) {
        return metrics::serve(req, t);
    }
    match t.sub.as_deref() {
        Some("log") => return subresources::log(req, t).await,
        Some("scale") => return subresources::scale(req, t),
        Some("eviction") => return subresources::eviction(req, t),
        Some("binding") => return subresources::binding(req, t),
        Some("finalize") => return subresources::finalize(req, t),
        _ => {}
    }
    match verb {
        "get" => objects::get(req, t),
        "list" => objects::list(req, t),
        "watch" => watch::serve(req, t),
        "create" => objects::create(req, t),
        "update" => objects::update(req, t),
        "patch" => objects::patch(req, t),
        "delete" => objects::delete(req, t),
        "deletecollection" => objects::delete_collection(req, t),
        _ => Err(not_allowed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_to_scoped_targets() {
        let t = parse_target(
            &Registry::default(),
            "",
            "v1",
            &["namespaces", "demo", "pods", "web", "log"],
        )
        .unwrap();
        assert!(std::ptr::eq(t.res, &resources::PODS));
        assert_eq!(t.ns.as_deref(), Some("demo"));
        assert_eq!(t.name.as_deref(), Some("web"));
        assert_eq!(t.sub.as_deref(), Some("log"));

        let ns = parse_target(
            &Registry::default(),
            "",
            "v1",
            &["namespaces", "demo", "status"],
        )
        .unwrap();
        assert!(std::ptr::eq(ns.res, &resources::NAMESPACES));
        assert_eq!(ns.name.as_deref(), Some("demo"));
        assert_eq!(ns.sub.as_deref(), Some("status"));

        let all = parse_target(&Registry::default(), "apps", "v1", &["deployments"]).unwrap();
        assert!(all.ns.is_none() && all.name.is_none());
    }

    #[test]
    fn unknown_kinds_scopes_and_subresources_are_404() {
        for (g, path) in [
            ("", &["widgets"][..]),
            ("", &["namespaces", "demo", "nodes"][..]),
            ("", &["namespaces", "demo", "configmaps", "x", "scale"][..]),
            (
                "apps",
                &["namespaces", "d", "deployments", "x", "scale", "more"][..],
            ),
        ] {
            assert_eq!(
                parse_target(&Registry::default(), g, "v1", path)
                    .unwrap_err()
                    .code,
                404,
                "{path:?}"
            );
        }
    }

    #[test]
    fn methods_map_to_verbs_or_405() {
        let t = |p: &[&str]| parse_target(&Registry::default(), "", "v1", p).unwrap();
        let pods = t(&["namespaces", "demo", "pods"]);
        let pod = t(&["namespaces", "demo", "pods", "web"]);
        assert_eq!(verb_for(&Method::GET, &pods, true).unwrap(), "watch");
        assert_eq!(
            verb_for(&Method::DELETE, &pods, false).unwrap(),
            "deletecollection"
        );
        assert_eq!(verb_for(&Method::PATCH, &pod, false).unwrap(), "patch");
        assert_eq!(verb_for(&Method::POST, &pod, false).unwrap_err().code, 405);
        assert_eq!(verb_for(&Method::PUT, &pods, false).unwrap_err().code, 405);
        let across = t(&["pods"]);
        assert_eq!(verb_for(&Method::GET, &across, false).unwrap(), "list");
        assert_eq!(
            verb_for(&Method::POST, &across, false).unwrap_err().code,
            405
        );
        let log = t(&["namespaces", "demo", "pods", "web", "log"]);
        assert_eq!(
            verb_for(&Method::DELETE, &log, false).unwrap_err().code,
            405
        );
        let metrics = parse_target(
            &Registry::default(),
            "metrics.k8s.io",
            "v1beta1",
            &["nodes"],
        )
        .unwrap();
        assert_eq!(
            verb_for(&Method::POST, &metrics, false).unwrap_err().code,
            405
        );
    }

    mod served {
        use super::*;
        use crate::config::{AuthMode, SimConfig};
        use crate::test_support::test_ctx_with;
        use axum::body::Body;
        use serde_json::{Value, json};

        /// Five ConfigMaps in `demo`, half of them labelled `even=true`.
        fn configmaps_ctx(auth: AuthMode) -> Arc<Ctx> {
            let config = SimConfig {
                auth,
                ..SimConfig::default()
            };
            let ctx = test_ctx_with(config, &["demo"]);
            for i in 0..5 {
                ctx.store
                    .create(
                        &resources::CONFIGMAPS,
                        json!({"metadata": {"name": format!("cm-{i}"), "namespace": "demo",
                                            "labels": {"even": (i % 2 == 0).to_string()}}}),
                    )
                    .unwrap();
            }
            Arc::new(ctx)
        }

        async fn call(
            ctx: &Arc<Ctx>,
            method: &str,
            uri: &str,
            headers: &[(&str, &str)],
            body: &str,
        ) -> (u16, Value) {
            let mut b = axum::http::Request::builder().method(method).uri(uri);
            for (k, v) in headers {
                b = b.header(*k, *v);
            }
            let req = b.body(Body::from(body.to_string())).unwrap();
            let resp = handle(ctx.clone(), req).await;
            let code = resp.status().as_u16();
            let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap();
            (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
        }

        #[tokio::test]
        async fn paged_lists_walk_every_item_once_with_continue_tokens() {
            let ctx = configmaps_ctx(AuthMode::Anonymous);
            let mut names = Vec::new();
            let mut uri = "/api/v1/namespaces/demo/configmaps?limit=2".to_string();
            loop {
                let (code, page) = call(&ctx, "GET", &uri, &[], "").await;
                assert_eq!(code, 200);
                assert_eq!(page["kind"], "ConfigMapList");
                for item in page["items"].as_array().unwrap() {
                    assert_eq!(item["kind"], "ConfigMap");
                    names.push(item["metadata"]["name"].as_str().unwrap().to_string());
                }
                match page["metadata"]["continue"].as_str() {
                    Some(c) => {
                        uri = format!("/api/v1/namespaces/demo/configmaps?limit=2&continue={c}")
                    }
                    None => break,
                }
            }
            assert_eq!(names, ["cm-0", "cm-1", "cm-2", "cm-3", "cm-4"]);
        }

        #[tokio::test]
        async fn creates_check_the_namespace_and_bad_bodies_are_400() {
            let ctx = configmaps_ctx(AuthMode::Anonymous);
            let uri = "/api/v1/namespaces/demo/configmaps";
            let (code, obj) = call(&ctx, "POST", uri, &[], r#"{"metadata":{"name":"new"}}"#).await;
            assert_eq!(code, 201);
            assert_eq!(obj["metadata"]["namespace"], "demo");
            let body = r#"{"metadata":{"name":"x","namespace":"other"}}"#;
            assert_eq!(call(&ctx, "POST", uri, &[], body).await.0, 400);
            let (code, st) = call(&ctx, "POST", uri, &[], "{not json").await;
            assert_eq!((code, st["kind"].as_str()), (400, Some("Status")));
            let (code, _) = call(&ctx, "POST", uri, &[], r#"{"metadata":{"name":"new"}}"#).await;
            assert_eq!(code, 409);
            let yaml = [("content-type", "application/yaml")];
            let (code, obj) =
                call(&ctx, "POST", uri, &yaml, "metadata:\n  name: from-yaml\n").await;
            assert_eq!(
                (code, obj["metadata"]["name"].as_str()),
                (201, Some("from-yaml"))
            );
        }

        #[tokio::test]
        async fn unknown_paths_are_404_and_wrong_methods_405() {
            let ctx = configmaps_ctx(AuthMode::Anonymous);
            assert_eq!(call(&ctx, "GET", "/api/v1/widgets", &[], "").await.0, 404);
            assert_eq!(
                call(&ctx, "GET", "/apis/nope.io/v1/things", &[], "")
                    .await
                    .0,
                404
            );
            assert_eq!(call(&ctx, "GET", "/nothing/here", &[], "").await.0, 404);
            let (code, st) =
                call(&ctx, "PUT", "/api/v1/namespaces/demo/configmaps", &[], "{}").await;
            assert_eq!(
                (code, st["reason"].as_str()),
                (405, Some("MethodNotAllowed"))
            );
        }

        #[tokio::test]
        async fn label_selected_deletecollection_removes_only_matches() {
            let ctx = configmaps_ctx(AuthMode::Anonymous);
            let uri = "/api/v1/namespaces/demo/configmaps?labelSelector=even%3Dtrue";
            let (code, list) = call(&ctx, "DELETE", uri, &[], "").await;
            assert_eq!(code, 200);
            assert_eq!(list["items"].as_array().unwrap().len(), 3);
            assert_eq!(
                ctx.store.list(&resources::CONFIGMAPS, Some("demo")).len(),
                2
            );
        }

        #[tokio::test]
        async fn tokens_gate_requests_by_role() {
            let ctx = configmaps_ctx(AuthMode::Tokens {
                admin: "adm".into(),
                viewer: "view".into(),
            });
            let uri = "/api/v1/namespaces/demo/configmaps/cm-1";
            assert_eq!(call(&ctx, "GET", uri, &[], "").await.0, 401);
            assert_eq!(call(&ctx, "GET", "/version", &[], "").await.0, 200);
            let viewer = [("authorization", "Bearer view")];
            assert_eq!(call(&ctx, "GET", uri, &viewer, "").await.0, 200);
            let (code, st) = call(&ctx, "DELETE", uri, &viewer, "").await;
            assert_eq!(code, 403);
            assert!(
                st["message"]
                    .as_str()
                    .unwrap()
                    .contains("cannot delete resource")
            );
            let admin = [("authorization", "Bearer adm")];
            assert_eq!(call(&ctx, "DELETE", uri, &admin, "").await.0, 200);
        }

        #[tokio::test]
        async fn a_too_old_watch_gets_200_and_a_410_error_event() {
            // A window of two changes: resourceVersion 1 is soon too old.
            let config = SimConfig {
                watch_window: 2,
                ..SimConfig::default()
            };
            let ctx = Arc::new(test_ctx_with(config, &["n0", "n1", "n2", "n3"]));
            let req = axum::http::Request::builder()
                .uri("/api/v1/configmaps?watch=true&resourceVersion=1")
                .body(Body::empty())
                .unwrap();
            let resp = handle(ctx, req).await;
            assert_eq!(resp.status().as_u16(), 200);
            let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap();
            let ev: Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(ev["type"], "ERROR");
            assert_eq!(ev["object"]["code"], 410);
        }
    }
}
