//! `pods/{name}/portforward` over WebSocket, as kube-apiserver and the
//! kubelet serve it to kube-rs and `kubectl port-forward`.
//!
//! The protocol (`v4.channel.k8s.io`, binary): each requested port has two
//! channels, data `2i` and error `2i+1`; every frame starts with its channel
//! byte, and the first frame the server sends on each channel is the port
//! number, 2 bytes little-endian. One WebSocket carries one connection per
//! port. Behind a port the pod declares (and only while it is Running) the
//! simulator answers as the pod's application would, over HTTP/1.1:
//! `/` with the pod's name, `/healthz` and `/readyz` with `ok`, `/metrics`
//! with the pod's application series. Any other port is refused on the
//! error channel with the kubelet's message. Nothing listens on the host.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use futures::{SinkExt as _, StreamExt as _};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, DuplexStream, WriteHalf};
use tokio::sync::{broadcast, mpsc};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

use super::query::Query;
use super::response;
use super::{ResourcePath, not_allowed};
use crate::controllers::Ctx;
use crate::error::ApiError;
use crate::resources;
use crate::store::{ChangeType, Obj, meta_str};

/// The binary channel protocol; kube-rs offers `v5` first, which the
/// kubelet does not speak for port-forwarding, then this.
const PROTOCOL: &str = "v4.channel.k8s.io";

pub(super) fn serve(ctx: &Arc<Ctx>, t: &ResourcePath, mut parts: Parts, query: &Query) -> Response {
    match accept(ctx, t, &mut parts, query) {
        Ok(resp) => resp,
        Err(e) => response::error(&e),
    }
}

fn accept(
    ctx: &Arc<Ctx>,
    t: &ResourcePath,
    parts: &mut Parts,
    query: &Query,
) -> Result<Response, ApiError> {
    let (ns, name) = (
        t.ns.as_deref().unwrap_or(""),
        t.name.as_deref().unwrap_or(""),
    );
    if parts.method != axum::http::Method::GET {
        // SPDY (a POST upgrade) is not served; kube-rs and kubectl both
        // speak WebSocket.
        return Err(not_allowed());
    }
    let pod = ctx
        .store
        .get(&resources::PODS, ns, name)
        .ok_or_else(|| ApiError::not_found(&resources::PODS, name))?;
    if pod["spec"]["nodeName"].as_str().unwrap_or("").is_empty() {
        return Err(ApiError::bad_request(format!(
            "pod {name} does not have a host assigned"
        )));
    }
    let ports = parse_ports(query.get("ports").unwrap_or(""))?;
    let header = |h: header::HeaderName| {
        parts
            .headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let key = header(header::SEC_WEBSOCKET_KEY);
    if !header(header::UPGRADE).eq_ignore_ascii_case("websocket") || key.is_empty() {
        return Err(ApiError::bad_request("Upgrade request required"));
    }
    let offered = header(header::SEC_WEBSOCKET_PROTOCOL);
    let protocol = if offered.trim().is_empty() {
        None
    } else if offered.split(',').any(|p| p.trim() == PROTOCOL) {
        Some(PROTOCOL)
    } else {
        return Err(ApiError::bad_request(format!(
            "requested protocol(s) are not supported: {offered}; supports {PROTOCOL}"
        )));
    };
    let upgrade = parts
        .extensions
        .remove::<hyper::upgrade::OnUpgrade>()
        .ok_or_else(|| ApiError::bad_request("Upgrade request required"))?;

    let ctx = ctx.clone();
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => {
                let ws =
                    WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None)
                        .await;
                session(ws, ctx, pod, ports).await;
            }
            Err(e) => tracing::debug!(error = %e, "portforward upgrade failed"),
        }
    });

    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(v) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    if let Some(p) = protocol {
        h.insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(p));
    }
    Ok(resp)
}

/// `ports=80,8080` (kube-rs) or repeated `ports=` values.
fn parse_ports(raw: &str) -> Result<Vec<u16>, ApiError> {
    let mut ports = Vec::new();
    for p in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match p.parse::<u16>() {
            Ok(n) if n > 0 => ports.push(n),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "invalid port \"{p}\": must be between 1 and 65535"
                )));
            }
        }
    }
    if ports.is_empty() {
        return Err(ApiError::bad_request("at least one port must be specified"));
    }
    Ok(ports)
}

/// Whether something in the pod listens on `port`: a container declares
/// it and the pod is running.
fn listens(pod: &Value, port: u16) -> bool {
    let running = pod["status"]["phase"].as_str() == Some("Running");
    let declared = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["ports"].as_array().into_iter().flatten())
        .any(|p| p["containerPort"].as_u64() == Some(u64::from(port)));
    running && declared
}

/// The kubelet's (containerd's) message for a port nothing listens on.
fn refused(pod: &Value, port: u16) -> String {
    let uid = meta_str(pod, "uid");
    let sandbox: String = uid.chars().filter(|c| *c != '-').collect();
    format!(
        "error forwarding port {port} to pod {sandbox}, uid : failed to execute portforward in network namespace \"/var/run/netns/cni-{uid}\": failed to connect to localhost:{port} inside namespace \"{sandbox}\", IPv4: dial tcp4 127.0.0.1:{port}: connect: connection refused IPv6 dial tcp6 [::1]:{port}: connect: connection refused "
    )
}

fn frame(ch: u8, data: &[u8]) -> Message {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(ch);
    v.extend_from_slice(data);
    Message::binary(v)
}

async fn session<S>(ws: WebSocketStream<S>, ctx: Arc<Ctx>, pod: Obj, ports: Vec<u16>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sink, mut stream) = ws.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Message>(16);
    let mut writers: Vec<Option<WriteHalf<DuplexStream>>> = Vec::with_capacity(ports.len());
    for (i, port) in ports.iter().enumerate() {
        let (data, error) = (channel(i, 0), channel(i, 1));
        let init = port.to_le_bytes();
        if sink.send(frame(data, &init)).await.is_err()
            || sink.send(frame(error, &init)).await.is_err()
        {
            return;
        }
        if !listens(&pod, *port) {
            let _ = sink
                .send(frame(error, refused(&pod, *port).as_bytes()))
                .await;
            writers.push(None);
            continue;
        }
        let (client, server) = tokio::io::duplex(64 * 1024);
        tokio::spawn(app(ctx.clone(), pod.clone(), server));
        let (mut reader, writer) = tokio::io::split(client);
        writers.push(Some(writer));
        let tx = out_tx.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 32 * 1024];
            while let Ok(n) = reader.read(&mut buf).await {
                if n == 0 || tx.send(frame(data, &buf[..n])).await.is_err() {
                    break;
                }
            }
        });
    }
    // Once every port's app has finished, the receiver ends.
    drop(out_tx);
    let mut changes = ctx.store.subscribe();
    loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(Ok(Message::Binary(b))) if !b.is_empty() => {
                    let ch = usize::from(b[0]);
                    if ch % 2 == 0
                        && let Some(Some(w)) = writers.get_mut(ch / 2)
                        && w.write_all(&b[1..]).await.is_err()
                    {
                        writers[ch / 2] = None;
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            out = out_rx.recv() => match out {
                Some(m) => {
                    if sink.send(m).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
            change = changes.recv() => match change {
                // The pod's network namespace goes with it: so do its
                // connections.
                Ok(c) if std::ptr::eq(c.res, &resources::PODS)
                    && matches!(c.kind, ChangeType::Deleted)
                    && meta_str(&c.object, "uid") == meta_str(&pod, "uid") => break,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let (ns, name) = (meta_str(&pod, "namespace"), meta_str(&pod, "name"));
                    let same = ctx.store.get(&resources::PODS, ns, name)
                        .is_some_and(|p| meta_str(&p, "uid") == meta_str(&pod, "uid"));
                    if !same {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
        }
    }
    let _ = sink.send(Message::Close(None)).await;
}

fn channel(port_index: usize, offset: usize) -> u8 {
    u8::try_from(2 * port_index + offset).unwrap_or(u8::MAX)
}

/// The pod's application on one forwarded connection.
async fn app(ctx: Arc<Ctx>, pod: Obj, io: DuplexStream) {
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let resp = answer(&ctx, &pod, req.uri().path());
        async move { Ok::<_, Infallible>(resp) }
    });
    if let Err(e) = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(io), service)
        .await
    {
        tracing::debug!(error = %e, "forwarded connection ended");
    }
}

fn answer(ctx: &Ctx, pod: &Value, path: &str) -> Response {
    let (ns, name) = (meta_str(pod, "namespace"), meta_str(pod, "name"));
    match path {
        "/" => response::text(200, format!("{name}\n")),
        "/healthz" | "/readyz" | "/livez" => response::text(200, "ok\n"),
        "/metrics" => response::bytes(
            200,
            crate::metrics::CONTENT_TYPE,
            pod_series(ctx, ns, name).into_bytes(),
        ),
        _ => response::text(404, "404 page not found\n"),
    }
}

/// The pod's own application series (`http_*`), as its `/metrics` would
/// expose them: the cluster exposition narrowed to this pod.
fn pod_series(ctx: &Ctx, ns: &str, name: &str) -> String {
    let all = crate::metrics::exposition(ctx, chrono::Utc::now());
    let (want_ns, want_pod) = (format!("namespace=\"{ns}\""), format!("pod=\"{name}\""));
    let mut out = String::new();
    let mut headers: Vec<&str> = Vec::new();
    for line in all.lines() {
        if line.starts_with('#') {
            if line.starts_with("# HELP ") {
                headers.clear();
            }
            headers.push(line);
            continue;
        }
        if line.starts_with("http_") && line.contains(&want_ns) && line.contains(&want_pod) {
            for h in headers.drain(..) {
                out.push_str(h);
                out.push('\n');
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ports_are_a_comma_list_of_non_zero_numbers() {
        assert_eq!(parse_ports("80,8080").unwrap(), vec![80, 8080]);
        assert!(parse_ports("").is_err());
        assert!(parse_ports("0").is_err());
        assert!(parse_ports("http").is_err());
    }

    #[test]
    fn only_declared_ports_of_running_pods_listen() {
        let pod = json!({
            "spec": {"containers": [{"ports": [{"containerPort": 8080}]}]},
            "status": {"phase": "Running"},
        });
        assert!(listens(&pod, 8080));
        assert!(!listens(&pod, 9999));
        let mut pending = pod.clone();
        pending["status"]["phase"] = json!("Pending");
        assert!(!listens(&pending, 8080));
    }
}
