//! The pods' `exec` subresource, over WebSocket as kube-apiserver serves it
//! (`v5.channel.k8s.io`, else `v4.channel.k8s.io`): every binary message
//! starts with its channel, 0 stdin, 1 stdout, 2 stderr, 3 the final
//! metav1.Status, 4 terminal resizes, and in v5 255 to close a channel.
//! The container's side is the built-in shell of `shell.rs`: the sim runs
//! nothing on the host.

mod shell;

use std::sync::Arc;

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use futures::{SinkExt as _, StreamExt as _};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};

use super::query::parse_bool;
use super::{ResourcePath, response};
use crate::controllers::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::resources;
use crate::store::{ChangeType, Store};
use shell::{Container, Start};

/// The channel protocols served, in the server's preference.
const PROTOCOLS: [&str; 2] = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const STATUS: u8 = 3;
const RESIZE: u8 = 4;
const CLOSE: u8 = 255;

/// What the container's PID 1 gets when the pod is deleted under a
/// session: the runtime's SIGKILL.
const KILLED: i32 = 137;

/// How long a container runtime takes to start an exec'd process: the sim
/// sends nothing before it. client-go before v0.34 (kubectl 1.32 among
/// them) starts reading before it has registered its streams, and drops
/// whatever arrives first as "Unknown stream id"; a real kubelet's exec
/// start hides that race, and so must the sim's. Client messages sent
/// meanwhile wait in the socket.
const EXEC_START: std::time::Duration = std::time::Duration::from_millis(100);

pub(super) fn serve(ctx: &Arc<Ctx>, t: &ResourcePath, parts: Parts) -> Response {
    match upgrade(ctx, t, parts) {
        Ok(r) => r,
        Err(e) => response::error(&e),
    }
}

/// What the client asked to run, and how.
struct Request {
    ns: String,
    pod: String,
    container: String,
    command: Vec<String>,
    stdin: bool,
    tty: bool,
}

fn parse(ctx: &Ctx, t: &ResourcePath, parts: &Parts) -> ApiResult<(Request, Value)> {
    let ns = t.ns.clone().unwrap_or_default();
    let name = t.name.clone().unwrap_or_default();
    let pod = ctx
        .store
        .get(&resources::PODS, &ns, &name)
        .ok_or_else(|| ApiError::not_found(&resources::PODS, &name))?;
    // `command` repeats, which the shared query parser does not keep.
    let pairs: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let first = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let flag = |key: &str| -> ApiResult<bool> {
        match first(key).filter(|v| !v.is_empty()) {
            None => Ok(false),
            Some(v) => parse_bool(v).ok_or_else(|| {
                ApiError::bad_request(format!("invalid value {v:?} for {key}: not a boolean"))
            }),
        }
    };
    let command: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "command")
        .map(|(_, v)| v.clone())
        .collect();
    let (stdin, stdout, stderr, tty) = (
        flag("stdin")?,
        flag("stdout")?,
        flag("stderr")?,
        flag("tty")?,
    );
    if command.is_empty() {
        return Err(ApiError::bad_request(
            "you must specify at least one command for the container",
        ));
    }
    if !(stdin || stdout || stderr) {
        return Err(ApiError::bad_request(
            "you must specify at least 1 of stdin, stdout, stderr",
        ));
    }
    let names: Vec<&str> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    let container = match first("container").filter(|c| !c.is_empty()) {
        Some(c) if names.contains(&c) => c.to_string(),
        Some(c) => {
            return Err(ApiError::bad_request(format!(
                "container {c} is not valid for pod {name}"
            )));
        }
        None if names.len() == 1 => names[0].to_string(),
        None => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                names.join(" ")
            )));
        }
    };
    let phase = pod["status"]["phase"].as_str().unwrap_or("Pending");
    if matches!(phase, "Succeeded" | "Failed") {
        return Err(ApiError::bad_request(format!(
            "cannot exec into a container in a completed pod; current phase is {phase}"
        )));
    }
    // The kubelet has no running container to exec into until the pod runs.
    let running = pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| s["name"] == container.as_str() && s["state"]["running"].is_object());
    if phase != "Running" || !running {
        return Err(ApiError::bad_request(format!(
            "unable to upgrade connection: container not found (\"{container}\")"
        )));
    }
    let req = Request {
        ns,
        pod: name,
        container,
        command,
        stdin,
        tty,
    };
    Ok((req, (*pod).clone()))
}

fn upgrade(ctx: &Arc<Ctx>, t: &ResourcePath, mut parts: Parts) -> ApiResult<Response> {
    let (req, pod) = parse(ctx, t, &parts)?;
    let headers = &parts.headers;
    let is_ws = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .map(|k| derive_accept_key(k.as_bytes()));
    let (true, Some(accept)) = (is_ws, key) else {
        return Err(ApiError::bad_request(
            "Upgrade request required: this server serves exec over WebSocket only",
        ));
    };
    let offered: Vec<String> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|p| p.trim().to_string()))
        .collect();
    let Some(protocol) = PROTOCOLS.iter().find(|p| offered.iter().any(|o| o == *p)) else {
        return Err(ApiError::bad_request(format!(
            "none of the offered channel protocols {offered:?} is supported (want one of {PROTOCOLS:?})"
        )));
    };
    let Some(on_upgrade) = parts.extensions.remove::<OnUpgrade>() else {
        return Err(ApiError::internal("this connection cannot be upgraded"));
    };
    let container = Container::of(ctx, &pod, &req.container, req.tty);
    let store = ctx.store.clone();
    let v5 = *protocol == PROTOCOLS[0];
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let ws =
                    WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None)
                        .await;
                Session {
                    ws,
                    container,
                    v5,
                    tty: req.tty,
                }
                .run(&req, &store)
                .await;
            }
            Err(e) => tracing::debug!("exec upgrade failed: {e}"),
        }
    });
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(protocol),
    );
    if let Ok(v) = HeaderValue::from_str(&accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    Ok(resp)
}

/// The metav1.Status the API server sends on channel 3 when the process ends.
fn status(code: i32) -> Value {
    if code == 0 {
        return json!({"metadata": {}, "status": "Success"});
    }
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!("command terminated with non-zero exit code: error executing command, exit code {code}"),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
    })
}

/// Resolves when the pod is deleted or marked for deletion: the container
/// is killed then.
async fn pod_gone(
    store: Arc<Store>,
    mut rx: broadcast::Receiver<Arc<crate::store::Change>>,
    ns: String,
    name: String,
) {
    let gone = |o: &Value| !o["metadata"]["deletionTimestamp"].is_null();
    // Subscribed before this check, so no change is missed in between.
    match store.get(&resources::PODS, &ns, &name) {
        Some(p) if !gone(&p) => {}
        _ => return,
    }
    loop {
        match rx.recv().await {
            Ok(ch) => {
                if !std::ptr::eq(ch.res, &resources::PODS)
                    || ch.object["metadata"]["namespace"] != ns.as_str()
                    || ch.object["metadata"]["name"] != name.as_str()
                {
                    continue;
                }
                if ch.kind == ChangeType::Deleted || gone(&ch.object) {
                    return;
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => {
                match store.get(&resources::PODS, &ns, &name) {
                    Some(p) if !gone(&p) => {}
                    _ => return,
                }
            }
            Err(broadcast::error::RecvError::Closed) => return std::future::pending().await,
        }
    }
}

type Ws = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

struct Session {
    ws: Ws,
    container: Container,
    v5: bool,
    tty: bool,
}

/// How the stream ended.
enum End {
    Exit(i32),
    /// The client went away: nothing more can be sent.
    Hangup,
}

impl Session {
    async fn run(mut self, req: &Request, store: &Arc<Store>) {
        tokio::time::sleep(EXEC_START).await;
        let rx = store.subscribe();
        let gone = pod_gone(store.clone(), rx, req.ns.clone(), req.pod.clone());
        tokio::pin!(gone);
        let end = tokio::select! {
            end = self.process(req) => end,
            () = &mut gone => End::Exit(KILLED),
        };
        if let End::Exit(code) = end {
            let body = serde_json::to_vec(&status(code)).unwrap_or_default();
            let _ = self.send(STATUS, &body).await;
            // A normal closure: client-go reads a close without a code
            // as an error on the stream it was reading.
            let normal = CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            };
            let _ = self.ws.close(Some(normal)).await;
        }
    }

    async fn send(&mut self, channel: u8, data: &[u8]) -> bool {
        if data.is_empty() {
            return true;
        }
        let mut msg = Vec::with_capacity(data.len() + 1);
        msg.push(channel);
        msg.extend_from_slice(data);
        self.ws.send(Message::binary(msg)).await.is_ok()
    }

    /// Writes a command's output as the container's terminal would: with a
    /// tty, stderr is the same stream and newlines become CR LF.
    async fn output(&mut self, out: &shell::Output) -> bool {
        if self.tty {
            let mut both = out.stdout.clone();
            both.extend_from_slice(&out.stderr);
            let text = crlf(&both);
            return self.send(STDOUT, &text).await;
        }
        self.send(STDOUT, &out.stdout).await && self.send(STDERR, &out.stderr).await
    }

    async fn process(&mut self, req: &Request) -> End {
        let script = match shell::start(&req.command) {
            Start::Interactive => None,
            Start::Script(s) => Some(s),
            Start::Command(argv) => Some(
                argv.iter()
                    .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        };
        let mut last = 0;
        if let Some(script) = script {
            let out = shell::run_line(&self.container, &script, 0);
            if !self.output(&out).await {
                return End::Hangup;
            }
            if !out.interactive {
                return End::Exit(out.exit.unwrap_or(out.status));
            }
            last = out.status;
        }
        if !req.stdin {
            // A shell reading from /dev/null ends at once.
            return End::Exit(last);
        }
        self.interactive(last).await
    }

    async fn interactive(&mut self, mut last: i32) -> End {
        const PROMPT: &[u8] = b"/ # ";
        if self.tty && !self.send(STDOUT, PROMPT).await {
            return End::Hangup;
        }
        let mut line: Vec<u8> = Vec::new();
        // Inside an escape sequence (arrow keys) the terminal sent.
        let mut escape = false;
        while let Some(msg) = self.ws.next().await {
            let data = match msg {
                Ok(Message::Binary(b)) => b,
                Ok(Message::Close(_)) | Err(_) => return End::Hangup,
                Ok(_) => continue,
            };
            let Some((&channel, data)) = data.split_first() else {
                continue;
            };
            if self.v5 && channel == CLOSE && data.first() == Some(&STDIN) {
                return End::Exit(last);
            }
            if channel == RESIZE {
                // `stty size` answers with it, so clients' resizes show.
                if let Ok(size) = serde_json::from_slice::<Value>(data) {
                    let dim = |k: &str| size[k].as_u64().and_then(|n| u16::try_from(n).ok());
                    if let (Some(w), Some(h)) = (dim("Width"), dim("Height")) {
                        self.container.size = Some((w, h));
                    }
                }
                continue;
            }
            if channel != STDIN {
                continue;
            }
            let mut echo = Vec::new();
            for &b in data {
                if escape {
                    escape = !(b.is_ascii_alphabetic() || b == b'~');
                    continue;
                }
                match b {
                    b'\r' | b'\n' => {
                        if self.tty {
                            echo.extend_from_slice(b"\r\n");
                            if !self.send(STDOUT, &std::mem::take(&mut echo)).await {
                                return End::Hangup;
                            }
                        }
                        let text = String::from_utf8_lossy(&std::mem::take(&mut line)).into_owned();
                        let out = shell::run_line(&self.container, &text, last);
                        if !self.output(&out).await {
                            return End::Hangup;
                        }
                        last = out.status;
                        if let Some(code) = out.exit {
                            return End::Exit(code);
                        }
                        if self.tty {
                            echo.extend_from_slice(PROMPT);
                        }
                    }
                    0x7f | 0x08 if self.tty && pop_char(&mut line) => {
                        echo.extend_from_slice(b"\x08 \x08");
                    }
                    0x7f | 0x08 if self.tty => {}
                    0x03 if self.tty => {
                        line.clear();
                        echo.extend_from_slice(b"^C\r\n");
                        echo.extend_from_slice(PROMPT);
                        last = 130;
                    }
                    0x04 if self.tty && line.is_empty() => {
                        echo.extend_from_slice(b"exit\r\n");
                        let _ = self.send(STDOUT, &echo).await;
                        return End::Exit(last);
                    }
                    0x15 if self.tty => {
                        for _ in 0..line.len() {
                            echo.extend_from_slice(b"\x08 \x08");
                        }
                        line.clear();
                    }
                    0x1b if self.tty => escape = true,
                    b if b >= 0x20 || b == b'\t' || !self.tty => {
                        line.push(b);
                        if self.tty {
                            echo.push(b);
                        }
                    }
                    _ => {}
                }
            }
            if !self.send(STDOUT, &echo).await {
                return End::Hangup;
            }
        }
        End::Hangup
    }
}

/// Removes the last UTF-8 character of `line`; false if it was empty.
fn pop_char(line: &mut Vec<u8>) -> bool {
    while let Some(b) = line.pop() {
        // Continuation bytes belong to the character being removed.
        if b & 0xc0 != 0x80 {
            return true;
        }
    }
    false
}

/// LF → CR LF, as a terminal's `onlcr` does.
fn crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for &b in data {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}
