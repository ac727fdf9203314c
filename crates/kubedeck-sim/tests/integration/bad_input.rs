//! Malformed and invalid requests over raw HTTP: each gets the Kubernetes
//! error a real API server gives, as a metav1.Status, and the server keeps
//! answering.

use std::net::SocketAddr;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Reply {
    status: u16,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// Sends one HTTP/1.1 request and reads the whole reply.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Reply {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\nConnection: close\r\n"
    );
    if !body.is_empty() || method != "GET" {
        req.push_str(&format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    let mut raw = req.into_bytes();
    raw.extend_from_slice(body);
    send_raw(addr, &raw).await
}

async fn send_raw(addr: SocketAddr, raw: &[u8]) -> Reply {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(raw).await.expect("write");
    let mut buf = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .expect("the server answers within 10 s")
        .expect("read");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Reply { status, body }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

#[track_caller]
fn assert_status(r: &Reply, code: u16, reason: &str) -> Value {
    assert_eq!(r.status, code, "HTTP status; body {}", r.body);
    let v = r.json();
    assert_eq!(v["kind"], "Status", "{v}");
    assert_eq!(v["apiVersion"], "v1", "{v}");
    assert_eq!(v["status"], "Failure", "{v}");
    assert_eq!(v["code"], code, "{v}");
    assert_eq!(v["reason"], reason, "{v}");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    v
}

async fn still_serving(addr: SocketAddr) {
    let r = http(addr, "GET", "/version", "", b"").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.json()["gitVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("v1."))
    );
}

const CM_PATH: &str = "/api/v1/namespaces/default/configmaps";
const DEPLOY_PATH: &str = "/apis/apps/v1/namespaces/default/deployments";

fn deployment(name: Value, replicas: i64, label: &str) -> Vec<u8> {
    let mut meta = json!({"labels": {"app": label}});
    if !name.is_null() {
        meta["name"] = name;
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "x"}},
            "template": {
                "metadata": {"labels": {"app": "x"}},
                "spec": {"containers": [{"name": "x", "image": "registry.example/x:1"}]}
            }
        }
    })
    .to_string()
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_400() {
    let ts = crate::common::start().await;
    let a = ts.sim.addr;
    let r = http(
        a,
        "POST",
        CM_PATH,
        "application/json",
        br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"#,
    )
    .await;
    assert_status(&r, 400, "BadRequest");
    still_serving(a).await;
    let r = http(a, "POST", CM_PATH, "application/json", b"hello, world").await;
    assert_status(&r, 400, "BadRequest");
    still_serving(a).await;
    let r = http(
        a,
        "PATCH",
        &format!("{CM_PATH}/nope"),
        "application/merge-patch+json",
        b"{not json",
    )
    .await;
    assert!(
        r.status == 400 || r.status == 404,
        "{} {}",
        r.status,
        r.body
    );
    assert_eq!(r.json()["kind"], "Status");
    still_serving(a).await;
    let r = http(a, "GET", "/api/v1/pods?labelSelector=app%20in%20(", "", b"").await;
    assert_status(&r, 400, "BadRequest");
    still_serving(a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_resource_and_missing_object_are_404() {
    let ts = crate::common::start().await;
    let a = ts.sim.addr;
    let r = http(a, "GET", "/api/v1/namespaces/default/widgets", "", b"").await;
    assert_status(&r, 404, "NotFound");
    still_serving(a).await;
    let r = http(a, "GET", "/apis/nosuch.example.com/v1/things", "", b"").await;
    assert_status(&r, 404, "NotFound");
    still_serving(a).await;
    let r = http(a, "GET", &format!("{CM_PATH}/does-not-exist"), "", b"").await;
    let v = assert_status(&r, 404, "NotFound");
    assert_eq!(v["details"]["name"], "does-not-exist", "{v}");
    assert_eq!(v["details"]["kind"], "configmaps", "{v}");
    assert_eq!(v["message"], "configmaps \"does-not-exist\" not found");
    still_serving(a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_objects_are_422() {
    let ts = crate::common::start().await;
    let a = ts.sim.addr;
    // (name, replicas, label value, the field the message and first cause name)
    let cases = [
        (json!("neg"), -1, "ok", "spec.replicas"),
        (Value::Null, 1, "ok", "metadata.name"),
        (
            json!("badlabel"),
            1,
            "not a valid value!",
            "metadata.labels",
        ),
        (json!("Bad_Name"), 1, "ok", "metadata.name"),
    ];
    for (name, replicas, label, field) in cases {
        let body = deployment(name.clone(), replicas, label);
        let r = http(a, "POST", DEPLOY_PATH, "application/json", &body).await;
        let v = assert_status(&r, 422, "Invalid");
        assert!(
            v["message"].as_str().unwrap_or("").contains(field),
            "{name}: {v}"
        );
        assert_eq!(v["details"]["causes"][0]["field"], field, "{name}: {v}");
        still_serving(a).await;
    }

    // None of the invalid objects was stored.
    let r = http(a, "GET", DEPLOY_PATH, "", b"").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["items"].as_array().map(Vec::len),
        Some(0),
        "{}",
        r.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_method_is_405() {
    let ts = crate::common::start().await;
    let a = ts.sim.addr;
    let body =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m"}}).to_string();
    let r = http(a, "PUT", CM_PATH, "application/json", body.as_bytes()).await;
    assert_status(&r, 405, "MethodNotAllowed");
    still_serving(a).await;
    let r = http(
        a,
        "POST",
        &format!("{CM_PATH}/m"),
        "application/json",
        body.as_bytes(),
    )
    .await;
    assert_status(&r, 405, "MethodNotAllowed");
    still_serving(a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_update_is_409() {
    let ts = crate::common::start().await;
    let a = ts.sim.addr;
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "s"}, "data": {"a": "1"}});
    let r = http(
        a,
        "POST",
        CM_PATH,
        "application/json",
        body.to_string().as_bytes(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.json();
    let mut v2 = created.clone();
    v2["data"]["a"] = json!("2");
    let r = http(
        a,
        "PUT",
        &format!("{CM_PATH}/s"),
        "application/json",
        v2.to_string().as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut stale = created.clone();
    stale["data"]["a"] = json!("3");
    let r = http(
        a,
        "PUT",
        &format!("{CM_PATH}/s"),
        "application/json",
        stale.to_string().as_bytes(),
    )
    .await;
    let v = assert_status(&r, 409, "Conflict");
    assert!(
        v["message"]
            .as_str()
            .unwrap_or("")
            .contains("the object has been modified"),
        "{v}"
    );
    still_serving(a).await;
    // A duplicate create is a 409 AlreadyExists.
    let r = http(
        a,
        "POST",
        CM_PATH,
        "application/json",
        body.to_string().as_bytes(),
    )
    .await;
    assert_status(&r, 409, "AlreadyExists");
    still_serving(a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_the_wire_does_not_stop_the_server() {
    let ts = crate::common::start().await;
    let a = ts.sim.addr;
    let r = send_raw(a, b"\x00\x01\x02 not http at all\r\n\r\n").await;
    assert!(
        r.status == 0 || r.status == 400,
        "{} {:?}",
        r.status,
        r.body
    );
    still_serving(a).await;
    // A body shorter than its Content-Length, then the client gives up.
    {
        let mut s = TcpStream::connect(a).await.expect("connect");
        let req = format!(
            "POST {CM_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"a\":"
        );
        s.write_all(req.as_bytes()).await.expect("write");
    }
    still_serving(a).await;
}
