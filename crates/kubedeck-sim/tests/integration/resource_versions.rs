//! List, get and watch at a resourceVersion the server has not reached, or
//! has forgotten, answered as kube-apiserver v1.37 answers (measured on the
//! testbed's real control plane): a 504 `ResourceVersionTooLarge` for lists
//! and gets from the future, a watch from the future that stays silent until
//! the store passes that version, and 410 Expired once a version has left
//! the retained window.

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kubedeck_sim::config::SimConfig;
use serde_json::{Value, json};

use crate::common::{TestSim, start, start_with};

const NS: &str = "default";

fn cm(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"k": value}}))
        .expect("configmap")
}

fn rv_of(o: &ConfigMap) -> u64 {
    o.metadata
        .resource_version
        .as_deref()
        .and_then(|v| v.parse().ok())
        .expect("a numeric resourceVersion")
}

/// A kube-rs client that does not retry a 504, so that the server's own
/// answer is what the test sees (kube-rs retries it by default).
fn client(ts: &TestSim) -> kube::Client {
    let mut config = kube::Config::new(ts.url().parse().expect("simulator URL"));
    config.default_retry = false;
    kube::Client::try_from(config).expect("kube client")
}

/// A GET of `path` as a client sees it: code, Retry-After, body.
async fn get(ts: &TestSim, path: &str) -> (u16, Option<String>, Value) {
    let req = axum::http::Request::builder()
        .uri(path)
        .header("accept", "application/json")
        .body(kube::client::Body::empty())
        .expect("a request");
    let resp = client(ts).send(req).await.expect("the server answers");
    let code = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = resp.into_body().collect_bytes().await.expect("a body");
    (code, retry, serde_json::from_slice(&bytes).expect("JSON"))
}

/// The item of a list with this name.
fn item(list: &Value, name: &str) -> Option<Value> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|o| o["metadata"]["name"] == name)
        .cloned()
}

async fn current_rv(ts: &TestSim) -> u64 {
    let (_, _, list) = get(ts, &format!("/api/v1/namespaces/{NS}/configmaps")).await;
    list["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("a list resourceVersion")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_and_gets_from_the_future_time_out_as_kube_apiserver_does() {
    let ts = start().await;
    let future = current_rv(&ts).await + 100_000;
    for path in [
        format!("/api/v1/namespaces?resourceVersion={future}"),
        format!("/api/v1/namespaces?resourceVersion={future}&resourceVersionMatch=NotOlderThan"),
        format!("/api/v1/namespaces?resourceVersion={future}&limit=2"),
        format!("/api/v1/namespaces/default?resourceVersion={future}"),
    ] {
        let (code, retry, status) = get(&ts, &path).await;
        assert_eq!(code, 504, "{path}: {status}");
        assert_eq!(retry.as_deref(), Some("1"), "{path}");
        assert_eq!(status["reason"], "Timeout", "{path}");
        let message = status["message"].as_str().expect("a message");
        assert!(
            message.starts_with(&format!(
                "Timeout: Too large resource version: {future}, current: "
            )),
            "{path}: {message}"
        );
        assert_eq!(
            status["details"]["causes"],
            json!([{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}]),
            "{path}"
        );
    }
    // kube-rs sees it as the Timeout it would retry.
    let api: Api<ConfigMap> = Api::namespaced(client(&ts), NS);
    let err = api
        .list(&ListParams::default().at(&future.to_string()))
        .await
        .expect_err("a list from the future fails");
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 504 && s.reason == "Timeout"),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_from_the_future_sends_only_changes_past_that_version() {
    let ts = start().await;
    let api: Api<ConfigMap> = Api::namespaced(ts.client(), NS);
    let ahead = current_rv(&ts).await + 20;
    let mut stream = api
        .watch(&WatchParams::default(), &ahead.to_string())
        .await
        .expect("the watch opens")
        .boxed();
    // Writes until one lands past the watched version; the ones at or
    // before it are what a server that had issued them would not resend.
    let mut before = Vec::new();
    let mut after = None;
    for i in 0.. {
        let made = api
            .create(&PostParams::default(), &cm(&format!("c{i}"), "v"))
            .await
            .expect("create");
        if rv_of(&made) > ahead {
            after = made.metadata.name;
            break;
        }
        before.push(made.metadata.name.expect("a name"));
    }
    assert!(!before.is_empty(), "some writes land before the version");
    let first = match stream.try_next().await.expect("the watch stays up") {
        Some(WatchEvent::Added(o)) => o,
        other => panic!("expected ADDED, got {other:?}"),
    };
    assert_eq!(
        first.metadata.name, after,
        "the first event is the first change past {ahead}, not one of {before:?}"
    );
    assert!(rv_of(&first) > ahead);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streaming_list_from_the_future_is_a_timeout_event() {
    let ts = start().await;
    let api: Api<ConfigMap> = Api::namespaced(ts.client(), NS);
    let future = current_rv(&ts).await + 100_000;
    let mut stream = api
        .watch(&WatchParams::streaming_lists(), &future.to_string())
        .await
        .expect("the watch opens")
        .boxed();
    match stream.next().await {
        Some(Ok(WatchEvent::Error(s))) => {
            assert_eq!((s.code, s.reason.as_str()), (504, "Timeout"), "{s:?}");
            assert!(
                s.message
                    .starts_with(&format!("Timeout: Too large resource version: {future}")),
                "{s:?}"
            );
        }
        other => panic!("expected an ERROR event, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exact_lists_serve_the_past_until_it_leaves_the_window() {
    let ts = start_with(
        "minimal",
        SimConfig {
            watch_window: 40,
            ..SimConfig::default()
        },
    )
    .await;
    let api: Api<ConfigMap> = Api::namespaced(ts.client(), NS);
    let made = api
        .create(&PostParams::default(), &cm("past", "old"))
        .await
        .expect("create");
    let at = rv_of(&made);
    api.patch(
        "past",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "new"}})),
    )
    .await
    .expect("patch");
    let value_at = |list: &Value| item(list, "past").map(|o| o["data"]["k"].clone());
    for path in [
        format!(
            "/api/v1/namespaces/{NS}/configmaps?resourceVersion={at}&resourceVersionMatch=Exact"
        ),
        // A version with a limit and no match is exact too (paged lists).
        format!("/api/v1/namespaces/{NS}/configmaps?resourceVersion={at}&limit=50"),
    ] {
        let (code, _, list) = get(&ts, &path).await;
        assert_eq!(code, 200, "{path}: {list}");
        assert_eq!(value_at(&list), Some(json!("old")), "{path}");
        assert_eq!(list["metadata"]["resourceVersion"], at.to_string());
    }
    let (_, _, list) = get(
        &ts,
        &format!(
            "/api/v1/namespaces/{NS}/configmaps?resourceVersion={}&resourceVersionMatch=Exact",
            at - 1
        ),
    )
    .await;
    assert_eq!(value_at(&list), None, "not created yet at {}", at - 1);
    // Not-older-than is served current.
    let (_, _, list) = get(
        &ts,
        &format!("/api/v1/namespaces/{NS}/configmaps?resourceVersion={at}"),
    )
    .await;
    assert_eq!(value_at(&list), Some(json!("new")));

    // Push the version out of the window: then it is gone, for lists and
    // watches alike.
    for i in 0..50 {
        api.patch(
            "past",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"k": i.to_string()}})),
        )
        .await
        .expect("patch");
    }
    let (code, _, status) = get(
        &ts,
        &format!(
            "/api/v1/namespaces/{NS}/configmaps?resourceVersion={at}&resourceVersionMatch=Exact"
        ),
    )
    .await;
    assert_eq!(code, 410, "{status}");
    assert_eq!(status["reason"], "Expired");
    assert_eq!(
        status["message"],
        "The resourceVersion for the provided list is too old."
    );
    let mut stream = api
        .watch(&WatchParams::default(), &at.to_string())
        .await
        .expect("the watch opens")
        .boxed();
    match stream.next().await {
        Some(Ok(WatchEvent::Error(s))) => {
            assert_eq!((s.code, s.reason.as_str()), (410, "Expired"), "{s:?}");
            assert!(
                s.message
                    .starts_with(&format!("too old resource version: {at} (")),
                "{s:?}"
            );
        }
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_resource_version_options_are_refused_with_the_servers_words() {
    let ts = start().await;
    let (code, _, status) = get(&ts, "/api/v1/namespaces?resourceVersionMatch=NotOlderThan").await;
    assert_eq!(code, 422, "{status}");
    assert_eq!(
        status["message"],
        "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
    );
    assert_eq!(status["details"]["kind"], "ListOptions");
    let (code, _, status) = get(&ts, "/api/v1/namespaces?resourceVersion=abc").await;
    assert_eq!(code, 400, "{status}");
    assert_eq!(
        status["message"],
        "invalid resource version: resourceVersion: Invalid value: \"abc\": strconv.ParseUint: parsing \"abc\": invalid syntax"
    );
}

/// A list writes each object once and copies those bytes on later lists; a
/// change must still show in the next list, exactly as a GET shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_after_a_change_shows_the_change_as_a_get_does() {
    let ts = start().await;
    let api: Api<ConfigMap> = Api::namespaced(ts.client(), NS);
    api.create(&PostParams::default(), &cm("listed", "old"))
        .await
        .expect("create");
    let listed = |list: &Value| item(list, "listed").expect("the configmap in the list");
    let path = format!("/api/v1/namespaces/{NS}/configmaps?limit=50");
    let (_, _, before) = get(&ts, &path).await;
    assert_eq!(listed(&before)["data"]["k"], "old");
    api.patch(
        "listed",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "new"}})),
    )
    .await
    .expect("patch");
    let (_, _, after) = get(&ts, &path).await;
    let (_, _, one) = get(&ts, &format!("/api/v1/namespaces/{NS}/configmaps/listed")).await;
    assert_eq!(listed(&after)["data"]["k"], "new");
    assert_eq!(listed(&after), one);
}
