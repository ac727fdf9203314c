//! kube-rs against the simulator: list/watch resourceVersion semantics,
//! optimistic concurrency, selectors, pagination, the three patch types and
//! cascading deletion.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::runtime::watcher;
use kubedeck_sim::config::SimConfig;
use serde_json::json;

use crate::common::wait_until;

const WAIT: Duration = Duration::from_secs(30);

fn cm(name: &str, labels: &[(&str, &str)]) -> ConfigMap {
    let labels: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": labels},
        "data": {"k": "v"},
    }))
    .expect("configmap")
}

async fn make_ns(client: &kube::Client, name: &str) {
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).expect("ns");
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .expect("create namespace");
}

fn names<K: kube::Resource>(items: &[K]) -> Vec<String> {
    items
        .iter()
        .map(|o| o.meta().name.clone().unwrap_or_default())
        .collect()
}

fn api_code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_from_list_resource_version_sees_later_change() {
    let ts = crate::common::start().await;
    let api: Api<ConfigMap> = Api::namespaced(ts.client(), "default");
    api.create(&PostParams::default(), &cm("before", &[]))
        .await
        .expect("create before");
    let list = api.list(&ListParams::default()).await.expect("list");
    let rv = list
        .metadata
        .resource_version
        .clone()
        .expect("list has a resourceVersion");
    assert!(names(&list.items).contains(&"before".to_string()));

    let mut stream = api
        .watch(&WatchParams::default().timeout(20), &rv)
        .await
        .expect("watch")
        .boxed();
    api.create(&PostParams::default(), &cm("after", &[]))
        .await
        .expect("create after");
    let got = tokio::time::timeout(WAIT, async {
        while let Some(ev) = stream.try_next().await.expect("watch event") {
            match ev {
                WatchEvent::Added(o) | WatchEvent::Modified(o) => return o,
                WatchEvent::Bookmark(_) => continue,
                other => panic!("unexpected watch event {other:?}"),
            }
        }
        panic!("the watch ended without the change")
    })
    .await
    .expect("the change arrives on the watch");
    // A watch from the list's version does not replay what the list showed.
    assert_eq!(got.metadata.name.as_deref(), Some("after"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_resumed_from_bookmark_sees_only_later_changes() {
    let ts = crate::common::start().await;
    let api: Api<ConfigMap> = Api::namespaced(ts.client(), "default");
    let rv0 = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("rv");
    api.create(&PostParams::default(), &cm("first", &[]))
        .await
        .expect("create first");

    // kube 5 asks for bookmarks by default; a real API server sends one
    // periodically and, at the latest, 2 s before the watch's timeout.
    let mut stream = api
        .watch(&WatchParams::default().timeout(8), &rv0)
        .await
        .expect("watch")
        .boxed();
    let mut saw_first = false;
    let bookmark_rv = tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(ev) = stream.try_next().await.expect("watch event") {
            match ev {
                WatchEvent::Added(o) if o.metadata.name.as_deref() == Some("first") => {
                    saw_first = true
                }
                WatchEvent::Bookmark(b) if saw_first => return Some(b.metadata.resource_version),
                _ => {}
            }
        }
        None
    })
    .await
    .expect("the watch ends at its timeout")
    .expect("a BOOKMARK after the first change, before the watch timed out");
    assert!(saw_first);

    api.create(&PostParams::default(), &cm("second", &[]))
        .await
        .expect("create second");
    let mut resumed = api
        .watch(&WatchParams::default().timeout(20), &bookmark_rv)
        .await
        .expect("resume watch")
        .boxed();
    let got = tokio::time::timeout(WAIT, async {
        while let Some(ev) = resumed.try_next().await.expect("watch event") {
            match ev {
                WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => {
                    return o;
                }
                WatchEvent::Bookmark(_) => continue,
                WatchEvent::Error(e) => panic!("watch error {e:?}"),
            }
        }
        panic!("the resumed watch ended without an event")
    })
    .await
    .expect("an event on the resumed watch");
    assert_eq!(
        got.metadata.name.as_deref(),
        Some("second"),
        "a watch from the bookmark's version must not replay earlier changes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_old_resource_version_is_gone_and_watcher_relists() {
    let ts = crate::common::start_with(
        "minimal",
        SimConfig {
            watch_window: 50,
            ..Default::default()
        },
    )
    .await;
    let client = ts.client();
    make_ns(&client, "churn").await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "churn");

    // The watcher lists, then is left unpolled while the window moves on.
    let mut w = watcher(api.clone(), watcher::Config::default()).boxed();
    tokio::time::timeout(WAIT, async {
        loop {
            match w.next().await {
                Some(Ok(watcher::Event::InitDone)) => break,
                Some(_) => continue,
                None => panic!("watcher ended"),
            }
        }
    })
    .await
    .expect("the watcher's initial list");
    let old_rv = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("rv");

    for i in 0..60 {
        api.create(&PostParams::default(), &cm(&format!("churn-{i}"), &[]))
            .await
            .expect("create churn");
    }

    // A raw watch from the old version: 410 Gone, as the HTTP status or as
    // an ERROR event (what a real API server sends).
    match api
        .watch(&WatchParams::default().timeout(10), &old_rv)
        .await
    {
        Err(e) => assert_eq!(api_code(&e), Some(410), "expected 410 Gone, got {e:?}"),
        Ok(stream) => {
            let mut stream = stream.boxed();
            let first = tokio::time::timeout(WAIT, stream.next())
                .await
                .expect("an event on the stale watch");
            match first {
                Some(Ok(WatchEvent::Error(s))) => assert_eq!(s.code, 410, "{s:?}"),
                Some(Err(e)) => assert_eq!(api_code(&e), Some(410), "{e:?}"),
                other => panic!("expected a 410 ERROR event, got {other:?}"),
            }
        }
    }

    api.create(&PostParams::default(), &cm("after-gone", &[]))
        .await
        .expect("create after-gone");
    let (relisted, listed) = tokio::time::timeout(WAIT, async {
        let mut relisted = false;
        let mut listed = BTreeSet::new();
        loop {
            match w.next().await {
                Some(Ok(watcher::Event::Init)) => relisted = true,
                Some(Ok(watcher::Event::InitApply(o))) => {
                    listed.insert(o.metadata.name.unwrap_or_default());
                }
                Some(Ok(watcher::Event::InitDone)) if relisted => return (relisted, listed),
                Some(Ok(watcher::Event::Apply(o)))
                    if o.metadata.name.as_deref() == Some("after-gone") =>
                {
                    return (relisted, listed);
                }
                Some(_) => continue,
                None => panic!("watcher ended"),
            }
        }
    })
    .await
    .expect("the watcher recovers");
    assert!(relisted, "the watcher must re-list after 410 Gone");
    for i in 0..60 {
        assert!(
            listed.contains(&format!("churn-{i}")),
            "re-list misses churn-{i}"
        );
    }
    assert!(
        listed.contains("after-gone"),
        "re-list misses the newest object"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_replace_conflicts() {
    let ts = crate::common::start().await;
    let api: Api<ConfigMap> = Api::namespaced(ts.client(), "default");
    let created = api
        .create(&PostParams::default(), &cm("cc", &[]))
        .await
        .expect("create");
    let mut newer = created.clone();
    newer.data = Some(BTreeMap::from([("k".into(), "v2".into())]));
    let newer = api
        .replace("cc", &PostParams::default(), &newer)
        .await
        .expect("first replace");
    assert_ne!(
        newer.metadata.resource_version, created.metadata.resource_version,
        "an update changes the resourceVersion"
    );
    let mut stale = created.clone();
    stale.data = Some(BTreeMap::from([("k".into(), "v3".into())]));
    let err = api
        .replace("cc", &PostParams::default(), &stale)
        .await
        .expect_err("a replace with a stale resourceVersion must fail");
    match &err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 409, "{s:?}");
            assert_eq!(s.reason, "Conflict", "{s:?}");
        }
        other => panic!("expected 409 Conflict, got {other:?}"),
    }
    let now = api.get("cc").await.expect("get");
    assert_eq!(
        now.data.expect("data")["k"],
        "v2",
        "the stale write was not applied"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_and_field_selectors() {
    let ts = crate::common::start().await;
    let client = ts.client();
    make_ns(&client, "sel").await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "sel");
    for (name, labels) in [
        ("prod-web", &[("env", "prod"), ("tier", "web")][..]),
        ("dev-web", &[("env", "dev"), ("tier", "web")][..]),
        ("staging", &[("env", "staging")][..]),
        ("plain", &[][..]),
    ] {
        api.create(&PostParams::default(), &cm(name, labels))
            .await
            .expect("create");
    }
    let select = |sel: &'static str| {
        let api = api.clone();
        async move {
            let list = api
                .list(&ListParams::default().labels(sel))
                .await
                .unwrap_or_else(|e| panic!("list -l {sel}: {e}"));
            let mut n: Vec<String> = names(&list.items)
                .into_iter()
                .filter(|n| n != "kube-root-ca.crt")
                .collect();
            n.sort();
            n
        }
    };
    assert_eq!(select("env=prod").await, ["prod-web"]);
    assert_eq!(select("env==prod,tier=web").await, ["prod-web"]);
    // != also matches objects without the label, as in Kubernetes.
    assert_eq!(select("env!=prod").await, ["dev-web", "plain", "staging"]);
    assert_eq!(
        select("env in (prod,staging)").await,
        ["prod-web", "staging"]
    );
    assert_eq!(
        select("env notin (prod,staging)").await,
        ["dev-web", "plain"]
    );
    assert_eq!(select("tier").await, ["dev-web", "prod-web"]);
    assert_eq!(select("!tier").await, ["plain", "staging"]);
    assert_eq!(select("env,!tier").await, ["staging"]);

    let by_name = api
        .list(&ListParams::default().fields("metadata.name=staging"))
        .await
        .expect("field selector by name");
    assert_eq!(names(&by_name.items), ["staging"]);
    let not_name = api
        .list(&ListParams::default().fields("metadata.name!=staging"))
        .await
        .expect("field selector !=");
    assert!(!names(&not_name.items).contains(&"staging".to_string()));
    assert!(names(&not_name.items).contains(&"plain".to_string()));

    // Pods: status.phase and spec.nodeName, on the scenario's web pods.
    let pods: Api<Pod> = Api::namespaced(client.clone(), "demo");
    let running = wait_until("2 Running web pods with a node", WAIT, || {
        let pods = pods.clone();
        async move {
            let l = pods
                .list(&ListParams::default().fields("status.phase=Running"))
                .await
                .map_err(|e| e.to_string())?;
            let bound = l
                .items
                .iter()
                .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some())
                .count();
            if l.items.len() == 2 && bound == 2 {
                Ok(l.items)
            } else {
                Err(format!("{:?}", names(&l.items)))
            }
        }
    })
    .await;
    for p in &running {
        assert_eq!(
            p.status.as_ref().and_then(|s| s.phase.as_deref()),
            Some("Running")
        );
    }
    let pending = pods
        .list(&ListParams::default().fields("status.phase=Pending"))
        .await
        .expect("list pending");
    assert!(pending.items.is_empty(), "{:?}", names(&pending.items));
    let node = running[0]
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .expect("node");
    let on_node = pods
        .list(&ListParams::default().fields(&format!("spec.nodeName={node}")))
        .await
        .expect("list by node");
    let expected = running
        .iter()
        .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(&node))
        .count();
    assert_eq!(on_node.items.len(), expected);
    assert!(
        on_node.items.iter().all(|p| {
            p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node.as_str())
        })
    );
    let nowhere = pods
        .list(&ListParams::default().fields("spec.nodeName=no-such-node"))
        .await
        .expect("list by missing node");
    assert!(nowhere.items.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_with_limit_and_continue() {
    let ts = crate::common::start().await;
    let client = ts.client();
    make_ns(&client, "pages").await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "pages");
    for i in 0..7 {
        api.create(&PostParams::default(), &cm(&format!("cm-{i}"), &[]))
            .await
            .expect("create");
    }
    let full = api.list(&ListParams::default()).await.expect("full list");
    let mut collected = Vec::new();
    let mut pages = 0;
    let mut token: Option<String> = None;
    loop {
        let mut lp = ListParams::default().limit(2);
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        let page = api.list(&lp).await.expect("page");
        pages += 1;
        assert!(page.items.len() <= 2, "a page holds at most limit items");
        collected.extend(names(&page.items));
        token = page.metadata.continue_.filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
        assert!(pages < 20, "pagination does not end");
    }
    let unique: BTreeSet<&String> = collected.iter().collect();
    assert_eq!(
        unique.len(),
        collected.len(),
        "duplicates across pages: {collected:?}"
    );
    let mut want = names(&full.items);
    want.sort();
    collected.sort();
    assert_eq!(collected, want);
    assert!(
        pages >= 4,
        "7+ objects with limit 2 take at least 4 pages, got {pages}"
    );

    // Cluster-wide pagination too.
    let all: Api<ConfigMap> = Api::all(client);
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut lp = ListParams::default().limit(3);
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        let page = all.list(&lp).await.expect("page");
        seen.extend(page.items.iter().map(|o| {
            format!(
                "{}/{}",
                o.metadata.namespace.clone().unwrap_or_default(),
                o.metadata.name.clone().unwrap_or_default()
            )
        }));
        token = page.metadata.continue_.filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "duplicates: {seen:?}");
    for i in 0..7 {
        assert!(seen.contains(&format!("pages/cm-{i}")));
    }
}

fn two_container_deployment(name: &str) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [
                    {"name": "app", "image": "registry.example/app:1.0",
                     "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                    {"name": "sidecar", "image": "registry.example/sidecar:1.0"}
                ]}
            }
        }
    }))
    .expect("deployment")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_and_patch_merge_json_strategic() {
    let ts = crate::common::start().await;
    let api: Api<Deployment> = Api::namespaced(ts.client(), "default");
    let created = api
        .create(&PostParams::default(), &two_container_deployment("patchme"))
        .await
        .expect("create");
    assert!(created.metadata.uid.is_some());
    assert!(created.metadata.creation_timestamp.is_some());
    assert_eq!(created.metadata.generation, Some(1));

    let merged = api
        .patch(
            "patchme",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"labels": {"team": "blue"}}, "spec": {"replicas": 3}}),
            ),
        )
        .await
        .expect("merge patch");
    let labels = merged.metadata.labels.clone().expect("labels");
    assert_eq!(labels["team"], "blue");
    assert_eq!(labels["app"], "patchme", "a merge patch keeps other labels");
    assert_eq!(merged.spec.as_ref().and_then(|s| s.replicas), Some(3));

    let jp: Patch<()> = Patch::Json(
        serde_json::from_value(json!([
            {"op": "test", "path": "/spec/replicas", "value": 3},
            {"op": "replace", "path": "/spec/replicas", "value": 2},
            {"op": "add", "path": "/metadata/annotations", "value": {"note": "json-patched"}}
        ]))
        .expect("json patch"),
    );
    let patched = api
        .patch("patchme", &PatchParams::default(), &jp)
        .await
        .expect("json patch");
    assert_eq!(patched.spec.as_ref().and_then(|s| s.replicas), Some(2));
    assert_eq!(
        patched
            .metadata
            .annotations
            .as_ref()
            .map(|a| a["note"].as_str()),
        Some("json-patched")
    );

    let failing: Patch<()> = Patch::Json(
        serde_json::from_value(json!([{"op": "test", "path": "/spec/replicas", "value": 99}]))
            .expect("json patch"),
    );
    let err = api
        .patch("patchme", &PatchParams::default(), &failing)
        .await
        .expect_err("a failing JSON patch test op is rejected");
    assert!(
        matches!(api_code(&err), Some(422) | Some(400) | Some(409)),
        "{err:?}"
    );

    let smp = api
        .patch(
            "patchme",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "app", "image": "registry.example/app:2.0",
                 "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]}
            ]}}}})),
        )
        .await
        .expect("strategic merge patch");
    let pod_spec = smp
        .spec
        .and_then(|s| s.template.spec)
        .expect("pod template spec");
    let by_name: BTreeMap<String, _> = pod_spec
        .containers
        .iter()
        .map(|c| (c.name.clone(), c.clone()))
        .collect();
    assert_eq!(
        by_name.len(),
        2,
        "SMP merges containers by name: {by_name:?}"
    );
    assert_eq!(
        by_name["app"].image.as_deref(),
        Some("registry.example/app:2.0")
    );
    assert_eq!(
        by_name["sidecar"].image.as_deref(),
        Some("registry.example/sidecar:1.0")
    );
    let env: BTreeMap<String, String> = by_name["app"]
        .env
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.name, e.value.unwrap_or_default()))
        .collect();
    assert_eq!(
        env,
        BTreeMap::from([
            ("A".to_string(), "1".to_string()),
            ("B".to_string(), "3".to_string()),
            ("C".to_string(), "4".to_string()),
        ])
    );
    assert_eq!(
        smp.metadata.generation,
        Some(4),
        "each spec change bumps generation"
    );
}

async fn owned_counts(client: &kube::Client, ns: &str, app: &str) -> (usize, usize) {
    let lp = ListParams::default().labels(&format!("app={app}"));
    let rs = Api::<ReplicaSet>::namespaced(client.clone(), ns)
        .list(&lp)
        .await
        .map(|l| l.items.len())
        .unwrap_or(usize::MAX);
    let pods = Api::<Pod>::namespaced(client.clone(), ns)
        .list(&lp)
        .await
        .map(|l| l.items.len())
        .unwrap_or(usize::MAX);
    (rs, pods)
}

async fn deployment_with_pods(client: &kube::Client, name: &str) -> Api<Deployment> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let mut d = two_container_deployment(name);
    if let Some(s) = d.spec.as_mut() {
        s.replicas = Some(2);
    }
    api.create(&PostParams::default(), &d)
        .await
        .expect("create");
    wait_until("a ReplicaSet and 2 pods", WAIT, || async {
        let c = owned_counts(client, "default", name).await;
        if c == (1, 2) {
            Ok(())
        } else {
            Err(format!("{c:?}"))
        }
    })
    .await;
    api
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_deployment_cascades_in_background() {
    let ts = crate::common::start().await;
    let client = ts.client();
    let api = deployment_with_pods(&client, "bg").await;
    api.delete("bg", &DeleteParams::background())
        .await
        .expect("delete");
    wait_until("ReplicaSets and pods of bg gone", WAIT, || async {
        let c = owned_counts(&client, "default", "bg").await;
        if c == (0, 0) {
            Ok(())
        } else {
            Err(format!("{c:?}"))
        }
    })
    .await;
    assert_eq!(
        api.get_opt("bg")
            .await
            .expect("get")
            .map(|d| d.metadata.name),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_deployment_foreground_waits_for_dependents() {
    let ts = crate::common::start().await;
    let client = ts.client();
    let api = deployment_with_pods(&client, "fg").await;
    let res = api
        .delete("fg", &DeleteParams::foreground())
        .await
        .expect("delete");
    let pending = res
        .left()
        .expect("a foreground delete with dependents returns the object, still present");
    assert!(pending.metadata.deletion_timestamp.is_some());
    assert!(
        pending
            .metadata
            .finalizers
            .unwrap_or_default()
            .contains(&"foregroundDeletion".to_string())
    );
    wait_until("Deployment fg gone", WAIT, || async {
        match api.get_opt("fg").await {
            Ok(None) => Ok(()),
            other => Err(format!("{:?}", other.map(|d| d.map(|d| d.metadata)))),
        }
    })
    .await;
    // Foreground: the owner disappears only after its dependents.
    assert_eq!(owned_counts(&client, "default", "fg").await, (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_deployment_orphan_keeps_dependents() {
    let ts = crate::common::start().await;
    let client = ts.client();
    let api = deployment_with_pods(&client, "orph").await;
    api.delete("orph", &DeleteParams::orphan())
        .await
        .expect("delete");
    wait_until("Deployment orph gone", WAIT, || async {
        match api.get_opt("orph").await {
            Ok(None) => Ok(()),
            other => Err(format!("{:?}", other.map(|d| d.map(|d| d.metadata)))),
        }
    })
    .await;
    let rss = Api::<ReplicaSet>::namespaced(client.clone(), "default")
        .list(&ListParams::default().labels("app=orph"))
        .await
        .expect("list rs");
    assert_eq!(rss.items.len(), 1, "the orphaned ReplicaSet stays");
    assert!(
        rss.items[0]
            .metadata
            .owner_references
            .clone()
            .unwrap_or_default()
            .is_empty(),
        "orphaning removes the owner reference"
    );
    let pods = wait_until("2 Running orphaned pods", WAIT, || async {
        let l = Api::<Pod>::namespaced(client.clone(), "default")
            .list(
                &ListParams::default()
                    .labels("app=orph")
                    .fields("status.phase=Running"),
            )
            .await
            .map_err(|e| e.to_string())?;
        if l.items.len() == 2 {
            Ok(l.items)
        } else {
            Err(format!("{:?}", names(&l.items)))
        }
    })
    .await;
    assert!(pods.iter().all(|p| p.metadata.deletion_timestamp.is_none()));
    assert_eq!(owned_counts(&client, "default", "orph").await, (1, 2));
}
