//! The first list streams into the store page by page; a relist replaces
//! the store; what a watch deletes leaves it. Against a simulator.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::runtime::reflector::{self, ObjectRef};
use kubedeck_sim::testing;

use super::session::{self, Progress};

impl super::watch::Trim for ConfigMap {}

fn config_map(name: &str) -> ConfigMap {
    serde_json::from_value(serde_json::json!({"metadata": {"name": name}, "data": {"k": "v"}}))
        .expect("a config map")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_list_streams_a_relist_replaces_and_deleted_objects_vanish() {
    let ts = testing::start().await;
    let api: Api<ConfigMap> = Api::namespaced(ts.client(), "default");
    for i in 0..1100 {
        api.create(&PostParams::default(), &config_map(&format!("n-{i:04}")))
            .await
            .expect("created");
    }
    let total = api
        .list(&ListParams::default())
        .await
        .expect("a list")
        .items
        .len();
    assert!(total >= 1100);
    let (store, mut writer) = reflector::store();

    // The first list: each page is in the store when it is reported, the
    // first a small one (the rows a user waits for), then pages of 500.
    let mut seen = Vec::new();
    let trouble = session::run(&api, "", &mut writer, |p| {
        seen.push((p, store.len()));
        !matches!(p, Progress::Listed(_))
    })
    .await;
    assert_eq!(trouble, None);
    let mut pages: Vec<_> = [100, 600, 1100]
        .into_iter()
        .filter(|&n| n < total)
        .map(|n| (Progress::Page(n), n))
        .collect();
    pages.push((Progress::Listed(total), total));
    assert_eq!(seen, pages);

    // A relist replaces the store once complete: what was deleted in
    // between goes, and no partial page shows.
    api.delete("n-0007", &DeleteParams::default())
        .await
        .expect("deleted");
    let mut seen = Vec::new();
    session::run(&api, "", &mut writer, |p| {
        seen.push((p, store.len()));
        !matches!(p, Progress::Listed(_))
    })
    .await;
    assert_eq!(seen, vec![(Progress::Listed(total - 1), total - 1)]);
    assert!(
        store
            .get(&ObjectRef::new("n-0007").within("default"))
            .is_none()
    );

    // Watching: a deleted object leaves the store, and the count is exact.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watching = {
        let api = api.clone();
        tokio::spawn(
            async move { session::run(&api, "", &mut writer, |p| tx.send(p).is_ok()).await },
        )
    };
    assert_eq!(rx.recv().await, Some(Progress::Listed(total - 1)));
    api.delete("n-0008", &DeleteParams::default())
        .await
        .expect("deleted");
    while let Some(p) = rx.recv().await {
        if p == Progress::Changed
            && store
                .get(&ObjectRef::new("n-0008").within("default"))
                .is_none()
        {
            break;
        }
    }
    assert_eq!(store.len(), total - 2);
    assert_eq!(
        store.len(),
        api.list(&ListParams::default())
            .await
            .expect("a list")
            .items
            .len()
    );
    watching.abort();
}
