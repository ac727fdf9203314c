//! A loopback plain-HTTP reverse proxy in front of any API server that a
//! `kube::Config` reaches, like `kubectl proxy` with faults. Its client
//! does the upstream TLS and credentials, so the proxy serves the simulator
//! and a real control plane alike, and a console pointed at it needs no
//! credentials (`kubeconfig`). Unlike the TCP-level `fault_proxy` it reads
//! HTTP, so it can answer as a failing API server does: Kubernetes Status
//! errors (500, 503) on every request or every Nth, a 410 on a watch that
//! resumes, latency, a hang, streams cut. Responses stream (watches are
//! long-lived). It counts the requests it gets, so a test can tell a
//! bounded retry from a hot loop. Upgrades (exec, port-forward) are not
//! proxied. Dropping it stops it: open streams break, the listener closes.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use tokio::net::TcpListener;
use tokio::sync::watch;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What the proxy does with requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forwards everything.
    Pass,
    /// Answers `code` with a Kubernetes Status body to every `every`th
    /// request, counted from when the fault is set (1: every request), and
    /// forwards the others. Setting it ends the open streams, as a server
    /// closes its watches when it goes into trouble: the client's next
    /// requests meet the fault.
    Status { code: u16, every: u64 },
    /// Takes requests and never answers; open streams freeze. Leaving the
    /// mode lets what was held through, as a server that was stuck recovers.
    Hang,
    /// Cuts the open streams, then every answer after its headers.
    Cut,
}

#[derive(Debug, Clone)]
struct Settings {
    fault: Fault,
    latency: Duration,
    /// Bumped to break every open stream.
    cuts: u64,
    /// Bumped to end every open stream cleanly.
    ends: u64,
    /// The collection whose next watch resuming from a resourceVersion is
    /// answered 410 Gone.
    expire: Option<String>,
    /// Watches taken for a 410 so far, and how many of them may answer.
    expiring: u64,
    released: u64,
    stopped: bool,
}

#[derive(Debug, Default)]
struct Counts {
    requests: Vec<Instant>,
    statuses: usize,
    gone: usize,
}

struct Shared {
    client: kube::Client,
    settings: watch::Sender<Settings>,
    counts: watch::Sender<Counts>,
    /// Requests seen since the current Status fault was set.
    seq: AtomicU64,
}

pub struct HttpFaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl HttpFaultProxy {
    /// A proxy on a free loopback port, forwarding through a client made
    /// of `config`. That client does not retry (kube-rs retries 429, 503
    /// and 504 by default): the server's answers pass as they are.
    pub async fn start(mut config: kube::Config) -> HttpFaultProxy {
        config.default_retry = false;
        let client = kube::Client::try_from(config).expect("the proxy's client");
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let (settings, _) = watch::channel(Settings {
            fault: Fault::Pass,
            latency: Duration::ZERO,
            cuts: 0,
            ends: 0,
            expire: None,
            expiring: 0,
            released: 0,
            stopped: false,
        });
        let (counts, _) = watch::channel(Counts::default());
        let shared = Arc::new(Shared {
            client,
            settings,
            counts,
            seq: AtomicU64::new(0),
        });
        let mut stop = shared.settings.subscribe();
        let app = Router::new().fallback(handle).with_state(shared.clone());
        // Graceful: the listener closes; the open streams end on their own,
        // as every one of them breaks once the proxy is stopped.
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|s| s.stopped).await;
                })
                .await;
        });
        HttpFaultProxy { addr, shared }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_fault(&self, fault: Fault) {
        self.shared.seq.store(0, Ordering::SeqCst);
        self.shared.settings.send_modify(|s| {
            s.fault = fault;
            match fault {
                Fault::Status { .. } => s.ends += 1,
                Fault::Cut => s.cuts += 1,
                Fault::Pass | Fault::Hang => {}
            }
        });
    }

    /// Delays every request by `latency` before it is answered.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.settings.send_modify(|s| s.latency = latency);
    }

    /// Breaks every open stream now (watches included).
    pub fn cut(&self) {
        self.shared.settings.send_modify(|s| s.cuts += 1);
    }

    /// The next watch of the collection at `path` (as
    /// `/api/v1/namespaces`) that resumes from a resourceVersion gets a
    /// 200 and its headers, then nothing until `release_expired`, then
    /// what kube-apiserver sends when that version is compacted away: one
    /// ERROR event with a 410 Status, and the end of the stream. Held, the
    /// client has no watch of that kind: what changes meanwhile it can
    /// only learn by relisting.
    pub fn expire_next_watch(&self, path: &str) {
        self.shared
            .settings
            .send_modify(|s| s.expire = Some(path.to_string()));
    }

    /// Waits until the watch armed by `expire_next_watch` has come and is
    /// held; fails after `timeout`.
    pub async fn until_expiring(&self, timeout: Duration) {
        let mut rx = self.shared.settings.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|s| s.expire.is_none()))
            .await
            .unwrap_or_else(|_| panic!("no watch to expire came within {timeout:?}"))
            .expect("the proxy runs");
    }

    /// Lets every held watch answer its 410.
    pub fn release_expired(&self) {
        self.shared
            .settings
            .send_modify(|s| s.released = s.expiring);
    }

    /// Requests received so far, answered or not.
    pub fn requests(&self) -> usize {
        self.shared.counts.borrow().requests.len()
    }

    /// Waits until `n` requests in all have been received; fails after
    /// `timeout`.
    pub async fn until_requests(&self, n: usize, timeout: Duration) {
        let mut rx = self.shared.counts.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|c| c.requests.len() >= n))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{} requests after {timeout:?}, waiting for {n}",
                    self.requests()
                )
            })
            .expect("the proxy runs");
    }

    /// Errors injected by a Status fault so far.
    pub fn statuses_served(&self) -> usize {
        self.shared.counts.borrow().statuses
    }

    /// Waits until a Status fault has answered `n` requests in all; fails
    /// after `timeout`.
    pub async fn until_statuses(&self, n: usize, timeout: Duration) {
        let mut rx = self.shared.counts.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|c| c.statuses >= n))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{} errors injected after {timeout:?}, waiting for {n}",
                    self.statuses_served()
                )
            })
            .expect("the proxy runs");
    }

    /// 410s sent by `expire_next_watch` so far.
    pub fn gone_served(&self) -> usize {
        self.shared.counts.borrow().gone
    }

    /// The most requests received within any one second since `since`.
    pub fn max_per_second(&self, since: Instant) -> usize {
        let times: Vec<Instant> = self
            .shared
            .counts
            .borrow()
            .requests
            .iter()
            .copied()
            .filter(|t| *t >= since)
            .collect();
        let mut best = 0;
        let mut start = 0;
        for end in 0..times.len() {
            while times[end].duration_since(times[start]) >= Duration::from_secs(1) {
                start += 1;
            }
            best = best.max(end - start + 1);
        }
        best
    }

    /// Writes a kubeconfig whose one context (`kubedeck-http-proxy`) is
    /// this proxy, with no credentials (the proxy's client has them), to
    /// `dir`, and returns its path.
    pub fn kubeconfig(&self, dir: &Path) -> PathBuf {
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: http-proxy\n  cluster:\n    server: {}\n\
             current-context: kubedeck-http-proxy\ncontexts:\n- name: kubedeck-http-proxy\n  context:\n    cluster: http-proxy\n    user: anonymous\n\
             users:\n- name: anonymous\n  user: {{}}\n",
            self.url()
        );
        let path = dir.join("kubeconfig-http-proxy");
        std::fs::write(&path, text).expect("write the proxy's kubeconfig");
        path
    }
}

impl Drop for HttpFaultProxy {
    fn drop(&mut self) {
        self.shared.settings.send_modify(|s| s.stopped = true);
    }
}

/// What a stream opened at some point must watch for: the streams cut
/// or ended since.
#[derive(Debug, Clone, Copy)]
struct Era {
    cuts: u64,
    ends: u64,
}

impl Era {
    fn of(s: &Settings) -> Era {
        Era {
            cuts: s.cuts,
            ends: s.ends,
        }
    }

    /// Whether a stream of this era is to break now.
    fn broken(self, s: &Settings) -> bool {
        s.cuts != self.cuts || s.fault == Fault::Cut || s.stopped
    }

    /// Whether it is to end now, broken or cleanly.
    fn over(self, s: &Settings) -> bool {
        self.broken(s) || s.ends != self.ends
    }
}

async fn handle(State(p): State<Arc<Shared>>, req: Request) -> Response {
    p.counts.send_modify(|c| c.requests.push(Instant::now()));
    let mut rx = p.settings.subscribe();
    let now = match rx.wait_for(|s| s.fault != Fault::Hang || s.stopped).await {
        Ok(s) if !s.stopped => s.clone(),
        _ => return status(StatusCode::SERVICE_UNAVAILABLE, "the proxy stopped"),
    };
    if !now.latency.is_zero() {
        tokio::time::sleep(now.latency).await;
    }
    if let Fault::Status { code, every } = now.fault {
        let n = p.seq.fetch_add(1, Ordering::SeqCst) + 1;
        if n % every.max(1) == 0 {
            p.counts.send_modify(|c| c.statuses += 1);
            let code = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return status(code, "injected by the fault proxy");
        }
    }
    if let Some(rv) = resumed_watch(&req)
        && let Some(k) = take_expire(&p, req.uri().path())
    {
        return gone(&p, k, Era::of(&now), &rv);
    }
    forward(&p, req, Era::of(&now)).await
}

/// The resourceVersion a watch request resumes from, if it is one.
fn resumed_watch(req: &Request) -> Option<String> {
    let query = req.uri().query()?;
    let mut watch = false;
    let mut rv = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match &*k {
            "watch" => watch = v == "true" || v == "1",
            "resourceVersion" if !v.is_empty() => rv = Some(v.into_owned()),
            _ => {}
        }
    }
    rv.filter(|_| watch)
}

/// Takes the armed 410 if it is for `path`: the held watch's number.
fn take_expire(p: &Shared, path: &str) -> Option<u64> {
    let mut taken = None;
    p.settings.send_if_modified(|s| {
        if s.expire.as_deref() != Some(path) {
            return false;
        }
        s.expire = None;
        s.expiring += 1;
        taken = Some(s.expiring);
        true
    });
    taken
}

/// A watch answered as kube-apiserver answers one from a compacted
/// version: 200, one ERROR event with a 410 Status, the end.
fn gone(p: &Shared, k: u64, era: Era, rv: &str) -> Response {
    let mut rx = p.settings.subscribe();
    let counts = p.counts.clone();
    let event = serde_json::json!({
        "type": "ERROR",
        "object": status_json(410, "Expired", &format!("too old resource version: {rv}")),
    });
    let line = format!("{event}\n");
    let answer = futures::stream::once(async move {
        let (released, broken) = rx
            .wait_for(|s| s.released >= k || era.over(s))
            .await
            .map_or((false, true), |s| {
                (s.released >= k && !s.stopped, era.broken(&s))
            });
        if released {
            counts.send_modify(|c| c.gone += 1);
            Some(Ok(Bytes::from(line)))
        } else if broken {
            Some(Err(cut_error()))
        } else {
            None
        }
    })
    .filter_map(|answer| async move { answer });
    (
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(answer),
    )
        .into_response()
}

async fn forward(p: &Shared, req: Request, era: Era) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 << 20).await else {
        return status(StatusCode::BAD_REQUEST, "the proxy could not read the body");
    };
    let mut upstream = axum::http::Request::builder()
        .method(parts.method)
        .uri(parts.uri.path_and_query().map_or("/", |pq| pq.as_str()));
    if let Some(headers) = upstream.headers_mut() {
        *headers = end_to_end(parts.headers);
        // The proxy's client brings its own credentials.
        headers.remove(header::AUTHORIZATION);
    }
    let Ok(upstream) = upstream.body(kube::client::Body::from(bytes)) else {
        return status(
            StatusCode::BAD_REQUEST,
            "the proxy could not build the request",
        );
    };
    match p.client.send(upstream).await {
        Err(e) => status(
            StatusCode::BAD_GATEWAY,
            &format!("the proxy cannot reach the API server: {e}"),
        ),
        Ok(answer) => {
            let (mut parts, body) = answer.into_parts();
            parts.headers = end_to_end(parts.headers);
            Response::from_parts(parts, relay(Body::new(body), p.settings.subscribe(), era))
        }
    }
}

/// The headers that belong to the request or answer, not to one hop (the
/// length too: a relayed body is framed anew).
fn end_to_end(mut headers: HeaderMap) -> HeaderMap {
    for h in [
        header::CONNECTION,
        header::HOST,
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
        header::TE,
        header::TRAILER,
        header::UPGRADE,
        header::PROXY_AUTHORIZATION,
    ] {
        headers.remove(h);
    }
    headers.remove("keep-alive");
    headers
}

/// The upstream body, chunk by chunk: broken when the streams are cut, in
/// Cut mode or once the proxy stops; ended when the streams are ended;
/// frozen while the proxy hangs.
fn relay(body: Body, settings: watch::Receiver<Settings>, era: Era) -> Body {
    let chunks = futures::stream::unfold(
        Some((body.into_data_stream(), settings)),
        move |state| async move {
            let (mut chunks, mut rx) = state?;
            let mut over = rx.clone();
            let next = tokio::select! {
                biased;
                broken = over.wait_for(|s| era.over(s)) => Err(broken.map_or(true, |s| era.broken(&s))),
                next = chunks.next() => Ok(next),
            };
            let chunk: Bytes = match next {
                Err(true) => return Some((Err(cut_error()), None)),
                Err(false) => return None,
                Ok(None) => return None,
                Ok(Some(Err(e))) => return Some((Err(BoxError::from(e)), None)),
                Ok(Some(Ok(chunk))) => chunk,
            };
            let go_on = rx
                .wait_for(|s| s.fault != Fault::Hang || era.broken(s))
                .await
                .is_ok_and(|s| !era.broken(&s));
            if !go_on {
                return Some((Err(cut_error()), None));
            }
            Some((Ok(chunk), Some((chunks, rx))))
        },
    );
    Body::from_stream(chunks)
}

fn cut_error() -> BoxError {
    std::io::Error::other("cut by the fault proxy").into()
}

fn status_json(code: u16, reason: &str, message: &str) -> serde_json::Value {
    serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    })
}

/// An error as kube-apiserver words it: a Status with the code's reason.
fn status(code: StatusCode, message: &str) -> Response {
    let (reason, message) = match code.as_u16() {
        500 => (
            "InternalError",
            format!("Internal error occurred: {message}"),
        ),
        503 => ("ServiceUnavailable", message.to_string()),
        504 => ("Timeout", message.to_string()),
        429 => ("TooManyRequests", message.to_string()),
        400 => ("BadRequest", message.to_string()),
        _ => ("InternalError", message.to_string()),
    };
    let body = status_json(code.as_u16(), reason, &message).to_string();
    (code, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Namespace;
    use kube::Api;
    use kube::api::{ListParams, WatchEvent, WatchParams};

    fn through(proxy: &HttpFaultProxy) -> Api<Namespace> {
        let mut config = kube::Config::new(proxy.url().parse().expect("the proxy's URL"));
        config.default_retry = false;
        Api::all(kube::Client::try_from(config).expect("a client"))
    }

    fn code(r: Result<kube::core::ObjectList<Namespace>, kube::Error>) -> Option<u16> {
        match r {
            Ok(_) => None,
            Err(kube::Error::Api(s)) => Some(s.code),
            Err(e) => panic!("not a Status: {e}"),
        }
    }

    #[tokio::test]
    async fn forwards_fails_expires_hangs_cuts_and_counts() {
        let ts = crate::testing::start().await;
        let proxy =
            HttpFaultProxy::start(kube::Config::new(ts.url().parse().expect("the sim's URL")))
                .await;
        let api = through(&proxy);
        let lp = ListParams::default();
        let listed = api.list(&lp).await.expect("a list through the proxy");
        assert!(
            listed
                .items
                .iter()
                .any(|n| n.metadata.name.as_deref() == Some("default"))
        );

        // A failing server ends its watches cleanly.
        let rv = listed.metadata.resource_version.clone().expect("a version");
        let open = api
            .watch(&WatchParams::default().timeout(30), &rv)
            .await
            .expect("a watch");
        futures::pin_mut!(open);
        proxy.set_fault(Fault::Status {
            code: 500,
            every: 1,
        });
        let end = loop {
            match open.next().await {
                Some(Ok(_)) => {}
                other => break other,
            }
        };
        assert!(end.is_none(), "the watch ends, not breaks: {end:?}");
        assert_eq!(code(api.list(&lp).await), Some(500));
        assert_eq!(code(api.list(&lp).await), Some(500));
        proxy.set_fault(Fault::Status {
            code: 503,
            every: 2,
        });
        let codes = [
            code(api.list(&lp).await),
            code(api.list(&lp).await),
            code(api.list(&lp).await),
            code(api.list(&lp).await),
        ];
        assert_eq!(codes, [None, Some(503), None, Some(503)]);
        assert_eq!(proxy.statuses_served(), 4);
        proxy.set_fault(Fault::Pass);

        // A watch resuming from the list's version: held, then a 410 event.
        let rv = api
            .list(&lp)
            .await
            .expect("a list")
            .metadata
            .resource_version
            .expect("a version");
        proxy.expire_next_watch("/api/v1/namespaces");
        let wp = WatchParams::default().timeout(30);
        let stream = api.watch(&wp, &rv).await.expect("the watch's headers");
        futures::pin_mut!(stream);
        proxy.until_expiring(Duration::from_secs(10)).await;
        proxy.release_expired();
        match stream.next().await {
            Some(Ok(WatchEvent::Error(s))) => assert_eq!(s.code, 410),
            other => panic!("a 410 event, not {other:?}"),
        }
        assert!(
            stream.next().await.is_none(),
            "the stream ends after the 410"
        );
        assert_eq!(proxy.gone_served(), 1);
        // Only the next one: this one streams what happens.
        let again = api.watch(&wp, &rv).await.expect("a watch");
        futures::pin_mut!(again);
        let ns: Namespace =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "after"}}))
                .expect("a namespace");
        Api::<Namespace>::all(ts.client())
            .create(&Default::default(), &ns)
            .await
            .expect("create a namespace");
        match again.next().await {
            Some(Ok(WatchEvent::Added(n))) => assert_eq!(n.metadata.name.as_deref(), Some("after")),
            other => panic!("the new namespace, not {other:?}"),
        }

        // Cut: an open watch breaks, or ends at once.
        let open = api.watch(&wp, &rv).await.expect("a watch");
        futures::pin_mut!(open);
        proxy.cut();
        let ended = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(Ok(_)) = open.next().await {}
        })
        .await;
        assert!(ended.is_ok(), "a cut watch ends");

        proxy.set_latency(Duration::from_millis(300));
        let asked = Instant::now();
        api.list(&lp).await.expect("a late answer");
        assert!(asked.elapsed() >= Duration::from_millis(300));
        proxy.set_latency(Duration::ZERO);

        proxy.set_fault(Fault::Hang);
        let hung = tokio::time::timeout(Duration::from_millis(300), api.list(&lp)).await;
        assert!(hung.is_err(), "a hung proxy does not answer");
        proxy.set_fault(Fault::Pass);
        api.list(&lp).await.expect("an answer once the hang clears");

        proxy.set_fault(Fault::Cut);
        assert!(api.list(&lp).await.is_err(), "a cut answer is an error");
        proxy.set_fault(Fault::Pass);

        // Every request counted, the held and the failed ones too.
        let since = Instant::now();
        api.list(&lp).await.expect("a list");
        assert_eq!(proxy.max_per_second(since), 1);
        assert_eq!(proxy.requests(), 17, "every request the client sent");

        // Dropped, it stops listening.
        let addr = proxy.addr();
        drop(proxy);
        crate::testing::wait_until("the listener to close", Duration::from_secs(10), || async {
            match tokio::net::TcpStream::connect(addr).await {
                Ok(_) => Err("still accepting".to_string()),
                Err(_) => Ok(()),
            }
        })
        .await;
    }
}
